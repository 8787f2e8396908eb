"""The words the shell shares, each defined once: verdict effects, languages, check and queue statuses, and the
date whose law applies by default ("today in the Netherlands")."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from biotoets.engine.model import EFFECTS, SEVERITY, Effect

# The verdict effects are the engine's (engine/model.py: Effect, EFFECTS mildest first, SEVERITY); re-exported here
# so the shell has one place for its words.
__all__ = ["AMSTERDAM", "AWAITING_REVIEW", "EFFECTS", "FINAL", "LANGS", "SEVERITY", "CheckStatus", "Effect", "Lang",
           "QueueStatus", "RuleEffect", "today"]
RuleEffect = Literal["allowed", "conditional", "prohibited", "advice", "derive"]

Lang = Literal["en", "nl"]
LANGS: tuple[Lang, ...] = get_args(Lang)

# draft: the applicant's private result, seen by no one else until they submit it to the permit office.
CheckStatus = Literal["draft", "submitted", "in_review", "confirmed", "overridden", "information_requested"]
QueueStatus = Literal["awaiting_review", "draft", "submitted", "in_review", "confirmed", "overridden",
                      "information_requested"]
AWAITING_REVIEW: tuple[CheckStatus, ...] = ("submitted", "in_review")
FINAL: tuple[CheckStatus, ...] = ("confirmed", "overridden")

try:
    _AMSTERDAM: dt.tzinfo = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without time zone data
    _AMSTERDAM = dt.UTC
AMSTERDAM = _AMSTERDAM  # the time zone the pages show times in


def today() -> dt.date:
    """Today in the Netherlands: the law of this date applies unless ``as_of`` says otherwise."""
    return dt.datetime.now(_AMSTERDAM).date()
