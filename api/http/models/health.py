"""Response models of liveness and readiness."""

from __future__ import annotations

from typing import Literal

from .base import Closed
from .catalogue import Ruleset


class Health(Closed):
    status: Literal["ok"]


class Ready(Closed):
    status: Literal["ready"]
    ruleset: Ruleset
    database: Literal["sqlite", "postgresql"]
    schema_revision: str
