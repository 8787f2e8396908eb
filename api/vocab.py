"""The words the shell shares, each defined once: verdict effects, languages, check and queue statuses, and the
date whose law applies by default ("today in the Netherlands")."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from biotoets.engine.loader import SEVERITY

Effect = Literal["allowed", "conditional", "prohibited"]
# Mildest first, in the engine's severity order (engine/loader.py SEVERITY is the source).
EFFECTS: tuple[Effect, ...] = tuple(sorted(get_args(Effect), key=SEVERITY.__getitem__))
assert set(EFFECTS) == set(SEVERITY), "vocab.Effect and the engine's SEVERITY name the same effects"
RuleEffect = Literal["allowed", "conditional", "prohibited", "derive"]

Lang = Literal["en", "nl"]
LANGS: tuple[Lang, ...] = get_args(Lang)

CheckStatus = Literal["submitted", "in_review", "confirmed", "overridden", "information_requested"]
QueueStatus = Literal["awaiting_review", "submitted", "in_review", "confirmed", "overridden", "information_requested"]
AWAITING_REVIEW: tuple[CheckStatus, ...] = ("submitted", "in_review")
FINAL: tuple[CheckStatus, ...] = ("confirmed", "overridden")

try:
    _AMSTERDAM: dt.tzinfo = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without time zone data
    _AMSTERDAM = dt.UTC


def today() -> dt.date:
    """Today in the Netherlands: the law of this date applies unless ``as_of`` says otherwise."""
    return dt.datetime.now(_AMSTERDAM).date()
