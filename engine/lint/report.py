"""What the lint reports: a finding per defect, the report with the methods that decided, and witnesses in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .domains import OTHER, Witness


@dataclass(frozen=True)
class Finding:
    check: str  # short name of the check
    subject: str  # rule id, source id or fact name
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


@dataclass
class LintReport:
    findings: list[Finding]
    methods: dict[str, int] = field(default_factory=dict)  # "enumeration" | "z3" -> questions decided

    def summary(self) -> str:
        parts = [f"{n} by {m}" for m, n in sorted(self.methods.items())]
        return "logical checks: " + (", ".join(parts) if parts else "none run")


def show_witness(found: Witness) -> str:
    env, on = found
    shown = ", ".join(f"{k}={_value(v)}" for k, v in sorted(env.items())) or "no facts given"
    return f"{shown} (as of {on.isoformat()})"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "[" + ", ".join("…" if x == OTHER else x for x in v) + "]"
    return str(v)
