// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // A print button for the receipt (the page prints without it, too: Ctrl+P).
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.hidden = false;
    el.addEventListener("click", function () { window.print(); });
  });
  // Typing a number or codes chooses the matching radio button.
  document.querySelectorAll("[data-choose]").forEach(function (input) {
    input.addEventListener("input", function () {
      var radio = document.getElementById(input.getAttribute("data-choose"));
      if (radio && input.value.trim() !== "") { radio.checked = true; }
    });
  });
  // The error summary takes focus, so a screen reader reads it first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
