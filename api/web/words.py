"""Domain messages and records in the page's language: how the review workflow's refusal (409), a review's and an
answer's invalid fields, and an audit record's details read on a page.

The domain says these in English for the API (``workflow.Conflict``, ``InvalidInput`` with a JSON pointer per
field); a page words them from what they carry -- the status and step of a refusal, the pointer of a field and the
decision it was part of -- with the texts of ``webtext.yaml``, so a Dutch page never shows the API's English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..faults import InvalidInput
from ..vocab import EFFECTS, FINAL
from ..workflow import MAX_REASON, Conflict, possible_steps
from . import form as webform

# Which input of the review form each field of a review request is.
REVIEW_FIELDS = {"/verdict": "f-verdict", "/reason": "f-reason", "/questions": "f-questions"}


def _t(key: str, lang: str, **params: Any) -> str:
    text = str(webform.texts().t(key, lang))
    return text.format(**params) if params else text


def step_text(step: str, lang: str) -> str:
    return _t(f"step_{step}", lang)


def conflict_text(exc: Conflict, lang: str) -> str:
    """The workflow's refusal: what the check is now, and what is possible from there."""
    possible = possible_steps(exc.status)
    if exc.status in FINAL:
        then = _t("conflict_final", lang)
    elif possible:
        then = _t("conflict_possible", lang, steps=", ".join(step_text(s, lang) for s in possible))
    else:
        then = _t("conflict_nothing", lang)
    return _t("conflict_text", lang, status=_t(f"status_{exc.status}", lang).lower(), step=step_text(exc.step, lang),
              then=then)


def review_error_text(error: Mapping[str, str], body: Mapping[str, Any], automated: str, lang: str) -> str:
    """One invalid field of a review (``workflow.check_decision`` or the request's own checks), worded from its
    pointer and the decision it was part of. The review form sends a verdict only with an override and questions
    only with a request for information, so the API's errors for other combinations cannot reach a page."""
    pointer = error.get("pointer", "")
    decision = str(body.get("decision", ""))
    if pointer == "/verdict" and decision == "override":
        if body.get("verdict") is None:
            return _t("review_override_needs_verdict", lang)
        return _t("review_override_same_verdict", lang, verdict=_verdict(automated, lang))
    if pointer == "/reason":
        if len(str(body.get("reason") or "")) > MAX_REASON:
            return _t("review_reason_too_long", lang, limit=MAX_REASON)
        return _t("review_override_needs_reason", lang)
    if pointer.startswith("/questions/"):
        index = int(pointer.rsplit("/", 1)[1]) if pointer.rsplit("/", 1)[1].isdigit() else -1
        questions = list(body.get("questions") or [])
        fact = questions[index] if 0 <= index < len(questions) else pointer
        return _t("review_not_a_fact", lang, fact=fact)
    if pointer == "/questions":
        if len(body.get("questions") or []) > 100:
            return _t("review_too_many_questions", lang)
        return _t("review_no_open_questions", lang)
    return _t("review_invalid", lang)


def answer_error_text(error: Mapping[str, str], lang: str) -> tuple[str, str]:
    """An answer the proposal cannot take (``services.answer_questions``): the fact and what to do."""
    fact = error.get("pointer", "").removeprefix("/answers/").replace("~1", "/").replace("~0", "~")
    key = "answer_partners_first" if fact.startswith("partners.") else "answer_invalid"
    return fact, f"{webform.fact_label(fact, lang)}: {_t(key, lang)}"


def _verdict(effect: str, lang: str) -> str:
    return _t(f"verdict_{effect}", lang).lower()


def summary_text(verdict: Mapping[str, Any], lang: str) -> str:
    """The verdict in one line, in the page's language (the stored verdict's own summary is in the language the
    check was made in)."""
    text = _t("summary_given", lang, verdict=_verdict(verdict["verdict"], lang))
    if verdict["could_become"] != verdict["verdict"]:
        text += " " + _t("summary_could_become", lang, verdict=_verdict(verdict["could_become"], lang))
    if verdict["could_fall_to"] != verdict["verdict"]:
        text += " " + _t("summary_could_fall_to", lang, verdict=_verdict(verdict["could_fall_to"], lang))
    return text


def form_errors(exc: InvalidInput | Conflict, field: str, lang: str, fields: Mapping[str, str] | None = None,
                body: Mapping[str, Any] | None = None, automated: str = "") -> tuple[int, list[dict[str, str]]]:
    """The one mapping of domain errors to a form's errors (the HTTP API's is http/errors.py): the status of the
    page and, for each error, the id of the input it belongs to (``field`` unless ``fields`` names one) and
    its text in the page's language."""
    if isinstance(exc, Conflict):
        return 409, [{"field": field, "text": conflict_text(exc, lang)}]
    ids = fields or {}
    errors = []
    for e in exc.errors:
        pointer = e.get("pointer", "")
        if pointer.startswith("/answers/"):
            fact, text = answer_error_text(e, lang)
            errors.append({"field": webform.field_id(fact), "text": text})
            continue
        errors.append({"field": ids.get("/questions" if "/questions/" in pointer else pointer, field),
                       "text": review_error_text(e, body or {}, automated, lang)})
    return 422, errors


# -- audit records -------------------------------------------------------------------------------------
_VERDICT_FIELDS = ("verdict", "automated_verdict", "previous_verdict")
_STATUS_FIELDS = ("status", "from", "to")


def audit_details(data: Mapping[str, Any], lang: str, skip: Sequence[str] = ("check",)) -> list[dict[str, Any]]:
    """An audit record's data as label and value in the page's language; ids, hashes and codes are marked
    ``code`` (shown as they are, to be copied)."""
    labels = webform.texts().audit["fields"]
    out = []
    for key, value in data.items():
        if value is None or key in skip:
            continue
        label = labels[key][lang] if key in labels else key
        code = False
        if key in _VERDICT_FIELDS and value in EFFECTS:
            text = _verdict(str(value), lang)
        elif key in _STATUS_FIELDS and isinstance(value, str):
            text = _t(f"status_{value}", lang).lower() if f"status_{value}" in webform.texts().ui else value
        elif key == "decision" and isinstance(value, str):
            text = step_text(value, lang) if f"step_{value}" in webform.texts().ui else value
        elif key == "role" and isinstance(value, str):
            text = _t(f"role_{value}", lang) if f"role_{value}" in webform.texts().ui else value
        elif isinstance(value, bool):
            text = _t("yes" if value else "no", lang)
        elif isinstance(value, list):
            text, code = ", ".join(str(v) for v in value), True
        else:
            text, code = str(value), key not in ("reason", "message", "name")
        out.append({"label": label, "text": text, "code": code})
    return out
