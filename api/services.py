"""Flows the HTTP API and the web pages share, written once: storing a check exactly once under an idempotency
key, answering an assessor's questions (apply the answers, evaluate again, store), and replaying a check.
Domain errors only (``faults``, ``workflow.Conflict``, ``receipts.SnapshotError``); each shell words them its
own way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from .documents import answers as ans
from .faults import InvalidInput
from .store import checks, receipts
from .store import reviews as review_store
from .store.checks import CheckWriter, NewCheck, StoredCheck
from .store.db import Database
from .store.keys import Principal


async def create_once(writer: CheckWriter, db: Database, new: NewCheck) -> tuple[StoredCheck, str | None, bool]:
    """Store the check. If a request with the same idempotency key stored one meanwhile (the same request sent
    twice at once), that one instead: (check, hash of the request that stored it, True). Without a key, or with
    no such check, the database's refusal stands."""
    try:
        return await writer.create(new), new.idempotency_hash, False
    except IntegrityError:
        if new.idempotency_key is None:
            raise
        found = await asyncio.to_thread(checks.by_idempotency_key, db, new.owner.key_id, new.idempotency_key)
        if found is None:
            raise
        return found[0], found[1], True


# The shell's evaluation of an answered proposal document: validate it, evaluate it, return the verdict.
Evaluate = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def answer_questions(db: Database, check: StoredCheck, actor: Principal, answers: Mapping[str, Any],
                           message: str | None, evaluate: Evaluate) -> dict[str, Any]:
    """Apply the applicant's answers to the check's proposal, evaluate it again and store it as the check's next
    revision (one transaction). ``InvalidInput`` for an answer that does not fit its fact, ``workflow.Conflict``
    if the check moved on meanwhile. Returns the new verdict."""
    try:
        doc = ans.apply(orjson.loads(check.proposal_json), answers)
    except ans.AnswerError as exc:
        raise InvalidInput([{"pointer": "/answers/" + exc.fact.replace("~", "~0").replace("/", "~1"),
                             "detail": str(exc)}]) from None
    verdict = await evaluate(doc)
    await asyncio.to_thread(review_store.store_answers, db, check, actor, doc, verdict, list(answers), message)
    return verdict


async def replay(db: Database, check: StoredCheck, actor: Principal) -> dict[str, Any]:
    """Evaluate the check again under its stored rule files, date and language, and log the replay in the audit
    chain; the report carries that record's number. ``receipts.SnapshotError`` if the rule files are not stored."""
    report = await receipts.replay_in_server(db, check)
    report["audit_record"] = await asyncio.to_thread(receipts.record_replay, db, actor.key_id, report)
    return report
