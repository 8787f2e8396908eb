"""Citations as people write them in each language: the source registry keeps short forms ("Reg. (EU)
2021/821", "Dir. 2009/41/EC", "OJ L 125"); a Dutch page says "Verordening (EU) 2021/821", "Richtlijn
2009/41/EG", "PbEU L 125", as the Dutch official journal and the Aanwijzingen voor de regelgeving cite them.

A short statutory quote is in the language of the text it was read in: Dutch law in Dutch, EU law, treaties and
case law in English (``QUOTED_IN``). A page shows a quote only in its own language, or on an English page any
quote (the Dutch originals are the law's own words); a Dutch page leaves an English quote out and keeps the
article's Dutch summary and its link."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The language the quotes of each kind of source were read in.
QUOTED_IN = {"statute": "nl", "decree": "nl", "ministerial_regulation": "nl", "bill": "nl", "motion": "nl",
             "policy": "nl", "advice": "nl", "guidance": "nl", "eu_regulation": "en", "eu_directive": "en",
             "treaty": "en", "case_law": "en", "recommendation": "en"}

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
        (re.compile(r"\b(C?ETS) No\. "), r"\1 nr. "),
        (re.compile(r"\bunverified\b"), "niet geverifieerd"),
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


def quote_in(citation: Mapping[str, Any], lang: str, sources: Mapping[str, Any]) -> str | None:
    """The citation's quote if a page in ``lang`` shows it (see the module's docstring)."""
    quote = citation.get("quote")
    if not quote or lang == "en":
        return quote or None
    source = sources.get(citation.get("source", ""))
    return quote if source is not None and QUOTED_IN.get(source.kind) == lang else None
