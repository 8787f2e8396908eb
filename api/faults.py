"""Domain errors: what went wrong, said in the domain's terms and raised by domain code.

Nothing here knows HTTP or pages. ``http/errors.py`` turns each into a problem document, the pages into form
errors; the review state machine's own refusal, ``workflow.Conflict``, is mapped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class InvalidInput(Exception):
    """Fields of a request that are missing or wrong: each a JSON pointer and, in ``detail``, what is wrong."""

    def __init__(self, errors: Sequence[Mapping[str, str]]) -> None:
        self.errors = [dict(e) for e in errors]
        n = len(self.errors)
        super().__init__(f"The request has {n} invalid field{'s' if n != 1 else ''}: "
                         + "; ".join(f"{e['pointer'] or '/'} {e['detail']}" for e in self.errors[:5]) + ".")


class InvalidProposal(Exception):
    """A document that is not a valid proposal: each bad field a JSON pointer and, in ``detail``, what is wrong.

    ``unreadable`` marks a document that cannot be read at all (nested too deep), as opposed to one with bad fields.
    """

    def __init__(self, message: str, errors: Sequence[Mapping[str, str]] = (), unreadable: bool = False) -> None:
        super().__init__(message)
        self.errors = [dict(e) for e in errors]
        self.unreadable = unreadable


class NotFound(Exception):
    """Nothing the caller may see is there; the message says what was looked for."""


class CheckNotFound(NotFound):
    """A check that does not exist, or that belongs to someone else (the two are not told apart)."""

    def __init__(self, check_id: str) -> None:
        super().__init__("There is no check with this id that your key may see.")
        self.check_id = check_id


class InternalFault(Exception):
    """A failure inside the server (logged with a correlation id; the caller gets a 500 problem)."""

    def __init__(self, what: str, cause: BaseException | None = None) -> None:
        super().__init__(what)
        self.cause = cause
