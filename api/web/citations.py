"""Citations as people write them in each language: the source registry keeps short forms ("Reg. (EU)
2021/821", "Dir. 2009/41/EC", "OJ L 125"); a Dutch page says "Verordening (EU) 2021/821", "Richtlijn
2009/41/EG", "PbEU L 125", as the Dutch official journal and the Aanwijzingen voor de regelgeving cite them."""

from __future__ import annotations

import re

_FORMS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "nl": [
        (re.compile(r"\bReg\. \(EU\)"), "Verordening (EU)"),
        (re.compile(r"\bReg\. \(EC\)"), "Verordening (EG)"),
        (re.compile(r"\bRegulation \(EU\)"), "Verordening (EU)"),
        (re.compile(r"\bRegulation \(EC\)"), "Verordening (EG)"),
        (re.compile(r"\bDir\. (\d{4}/\d+)/EC\b"), r"Richtlijn \1/EG"),
        (re.compile(r"\bDir\. (\d{4}/\d+)/EU\b"), r"Richtlijn \1/EU"),
        (re.compile(r"\bDirective (\d{4}/\d+)/EC\b"), r"Richtlijn \1/EG"),
        (re.compile(r"\bRec\. \(EU\)"), "Aanbeveling (EU)"),
        (re.compile(r"\bOJ\b"), "PbEU"),
    ],
    "en": [
        (re.compile(r"\bReg\. \("), "Regulation ("),
        (re.compile(r"\bDir\. "), "Directive "),
        (re.compile(r"\bRec\. \("), "Recommendation ("),
    ],
}


def cite(text: str | None, lang: str) -> str:
    """A citation or identifier in the citation form of ``lang``."""
    if not text:
        return ""
    for pattern, replacement in _FORMS.get(lang, []):
        text = pattern.sub(replacement, text)
    return text
