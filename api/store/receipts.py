"""Receipts of stored checks, the rule-base snapshots behind them, and replay.

A *receipt* states what a stored verdict rests on: the hash of the proposal,
the verdict, the hash of the rule files and of each file, the engine version,
the date whose law was applied, and the audit record that logged the
evaluation. Its own hash is the receipt's reference.

Every rule base a server evaluates with is kept as a *snapshot* (the exact
bytes of its files, keyed by the ruleset hash) before the first check is
stored with it. *Replay* rebuilds that rule base from the snapshot, evaluates
the stored proposal again on the stored date and language, and reports
whether the verdict is unchanged -- after the shipped rules have changed too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from biotoets.engine.evaluate import ENGINE_VERSION, Engine
from biotoets.engine.model import RuleBase
from biotoets.engine.proposal import Proposal
from biotoets.engine.scenarios import rule_base_from_snapshot

from ..documents import slim
from . import audit, bases
from .checks import StoredCheck
from .db import AuditRecord, Database, RulesetSnapshot, as_utc, utcnow

EVALUATION_ACTIONS = ("check.created", "check.reevaluated")


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def proposal_hash(proposal_json: str) -> str:
    """The hash of a proposal's content (canonical JSON: key order and spacing do not matter)."""
    return sha256(canonical(orjson.loads(proposal_json)))


def files_digest(files: Mapping[str, bytes]) -> str:
    """The ruleset hash of a set of rule files (the same as ``RuleBase.digest``)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


# -- snapshots ------------------------------------------------------------------------------------
class SnapshotError(Exception):
    """A stored snapshot is missing or does not match its hash."""


def keep_snapshot(db: Database, base: RuleBase, engine_version: str = ENGINE_VERSION) -> bool:
    """Store the rule files of ``base`` unless they are stored already; True if this call stored them."""
    with db.read() as conn:
        if conn.execute(select(RulesetSnapshot.hash).where(RulesetSnapshot.hash == base.digest)).first():
            return False
    files = {name: base64.b64encode(data).decode() for name, data in sorted(base.files.items())}
    try:
        with db.write() as conn:
            conn.execute(insert(RulesetSnapshot).values(
                hash=base.digest, created_at=utcnow(), engine_version=engine_version,
                files_json=orjson.dumps(files).decode()))
    except IntegrityError:  # another worker process stored the same snapshot at the same moment
        return False
    return True


def load_snapshot(db: Database, ruleset_hash: str) -> dict[str, bytes] | None:
    """The rule files stored under a ruleset hash (checked against it), or None if none are stored."""
    with db.read() as conn:
        row = conn.execute(select(RulesetSnapshot.files_json).where(RulesetSnapshot.hash == ruleset_hash)).first()
    if row is None:
        return None
    files = {name: base64.b64decode(text) for name, text in orjson.loads(row.files_json).items()}
    if files_digest(files) != ruleset_hash:
        raise SnapshotError(f"the stored rule files of ruleset {ruleset_hash[:12]} do not match their hash")
    return files


def rule_base(db: Database, ruleset_hash: str) -> RuleBase | None:
    """The rule base a check was evaluated under, by its hash: one this process knows, else rebuilt from its
    stored snapshot; None when neither has it (the check is then read in its slim form's own texts)."""
    base = bases.known(ruleset_hash)
    if base is None:
        files = load_snapshot(db, ruleset_hash)
        if files is not None:
            base = bases.remember(rule_base_from_snapshot(files)[0])
    return base


def full_verdict(db: Database, check: StoredCheck) -> dict[str, Any]:
    """A stored check's verdict in the full form, with the texts of the rule base it was evaluated under (that
    lost: in the shape of the full form, from the slim form's own texts -- for pages and the terminal)."""
    verdict = check.verdict
    return slim.full(verdict, rule_base(db, verdict["ruleset"]["hash"]))


def texts(db: Database, check: StoredCheck) -> dict[str, Any] | None:
    """The texts an answer carries beside a check's slim verdict (``slim.texts``); None when its rule base is not
    stored here, or its verdict has its texts inline."""
    verdict = check.verdict
    if not slim.is_slim(verdict):
        return None
    return slim.texts(verdict, rule_base(db, verdict["ruleset"]["hash"]))


def with_full_verdict(db: Database, check: StoredCheck) -> StoredCheck:
    """The check with its verdict in the full form (``?view=full``); SnapshotError when the rule base it was
    evaluated under is not stored here."""
    verdict = check.verdict
    if not slim.is_slim(verdict):
        return check
    ruleset = verdict["ruleset"]["hash"]
    base = rule_base(db, ruleset)
    if base is None:
        raise SnapshotError(f"the rule files of ruleset {ruleset[:12]} are not stored on this server, "
                            "so the full view of this check cannot be built; its default (slim) view reads on its own")
    return replace(check, verdict_json=orjson.dumps(slim.expand(verdict, base)).decode())


# -- receipts -------------------------------------------------------------------------------------
def receipt(db: Database, check: StoredCheck, outcome: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The receipt of a check's current evaluation (``outcome``: the review's result, if any)."""
    verdict = check.verdict
    with db.read() as conn:
        anchor = conn.execute(
            select(AuditRecord.seq, AuditRecord.hash, AuditRecord.at)
            .where(AuditRecord.subject == check.id, AuditRecord.action.in_(EVALUATION_ACTIONS))
            .order_by(AuditRecord.seq.desc()).limit(1)
        ).first()
        stored = conn.execute(select(RulesetSnapshot.files_json)
                              .where(RulesetSnapshot.hash == check.ruleset_hash)).first()
    rule_files = None
    if stored is not None:
        rule_files = {name: sha256(base64.b64decode(text)) for name, text in orjson.loads(stored.files_json).items()}
    body: dict[str, Any] = {
        "check": check.id,
        "case": check.reference,
        "revision": check.revision,
        "created_at": check.created_at.isoformat(),
        "title": check.title,
        "proposal_hash": proposal_hash(check.proposal_json),
        "verdict": verdict["verdict"],
        "complete": verdict["complete"],
        "could_become": verdict["could_become"],
        "could_fall_to": verdict["could_fall_to"],
        "grounds": slim.applying(verdict),
        "conditions": len(verdict["conditions"]),
        "open_questions": len(verdict["questions"]),
        "open_norms": len(verdict["open_norms"]),
        "as_of": check.as_of.isoformat(),
        "lang": check.lang,
        "scenario": check.scenario,
        "ruleset_hash": check.ruleset_hash,
        "rules_in_force": verdict["ruleset"]["rules_in_force"],
        "rule_files": rule_files,
        "engine_version": check.engine_version,
        "audit_record": ({"seq": anchor.seq, "hash": anchor.hash, "at": as_utc(anchor.at).isoformat()}
                         if anchor is not None else None),
    }
    digest = sha256(canonical(body))
    return {
        **body,
        "receipt_hash": digest,
        "reference": f"BT-{digest[:4]}-{digest[4:8]}-{digest[8:12]}".upper(),
        "status": check.status,
        "review": dict(outcome) if outcome else None,
        "replayable": rule_files is not None,
        "disclaimer": slim.disclaimer(verdict),
    }


# -- replay ---------------------------------------------------------------------------------------
SUMMARY_KEYS = ("verdict", "complete", "could_become", "could_fall_to")


def summary(verdict: Mapping[str, Any]) -> dict[str, Any]:
    return {k: verdict[k] for k in SUMMARY_KEYS}


def compare(stored: Mapping[str, Any], replayed: Mapping[str, Any]) -> dict[str, Any]:
    """What a replay found: the two summaries, whether the verdict is unchanged, which parts differ."""
    differences = sorted(k for k in set(stored) | set(replayed) if stored.get(k) != replayed.get(k))
    return {
        "verdict_unchanged": summary(stored) == summary(replayed),
        "identical": not differences,
        "differences": differences,
        "stored": summary(stored),
        "replayed": summary(replayed),
    }


class ReplayEngines:
    """Engines compiled from snapshots, by ruleset hash; built and used on one thread only.

    durable_rules confines each engine to the thread that built it: in a server this
    object lives on the process's engine thread, in the CLI on the main thread.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._engines: OrderedDict[str, Engine] = OrderedDict()

    def get(self, ruleset_hash: str, files: Mapping[str, bytes]) -> Engine:
        engine = self._engines.get(ruleset_hash)
        if engine is None:
            base, scenario = rule_base_from_snapshot(files)
            bases.remember(base)
            # The same engine name as when the check was made, so the trace reads the same.
            name = f"scenario/{scenario.id}" if scenario is not None else "law"
            engine = Engine(base, name=name, scenario=scenario)
            self._engines[ruleset_hash] = engine
            while len(self._engines) > self.size:
                _, old = self._engines.popitem(last=False)
                old.close()
        self._engines.move_to_end(ruleset_hash)
        return engine

    def evaluate(self, check: StoredCheck, files: Mapping[str, bytes], explain: bool | None = None) -> dict[str, Any]:
        """The check evaluated again; with "what would change it" when the stored verdict has it (checks stored
        since explanations are on demand have an empty list), or as ``explain`` says."""
        engine = self.get(check.ruleset_hash, files)
        proposal = Proposal.model_validate_json(check.proposal_json)
        if explain is None:
            explain = bool(check.verdict.get("changes"))
        return engine.evaluate(proposal, check.as_of, lang=check.lang, explain=explain)

    def report(self, check: StoredCheck, files: Mapping[str, bytes]) -> dict[str, Any]:
        """Replay a check and say what changed (``replay_report``)."""
        replayed = self.evaluate(check, files)
        return replay_report(check, replayed, self.get(check.ruleset_hash, files).base)

    def changes(self, check: StoredCheck, files: Mapping[str, bytes]) -> list[dict[str, Any]]:
        """"What would change it" for a stored check, under the rules it was made with."""
        replayed = self.evaluate(check, files, explain=True)
        if summary(replayed) != summary(check.verdict):
            raise SnapshotError(f"check {check.id} evaluates differently under its stored rule files; "
                                "replay it to see why")
        changes: list[dict[str, Any]] = replayed["changes"]
        return changes


def replay_report(check: StoredCheck, replayed: Mapping[str, Any], base: RuleBase) -> dict[str, Any]:
    """What replaying a check found, comparing the full forms (the stored one expanded with ``base``: the rule
    base of its snapshot, the one it was replayed with)."""
    return {
        "check": check.id,
        "revision": check.revision,
        "ruleset_hash": check.ruleset_hash,
        "as_of": check.as_of.isoformat(),
        "engine_version": {"stored": check.engine_version, "replayed": ENGINE_VERSION},
        **compare(slim.full(check.verdict, base), replayed),
    }


def record_replay(db: Database, actor: str, report: Mapping[str, Any]) -> int:
    """Log a replay in the audit chain; return the record's number."""
    with db.write() as conn:
        return audit.append(conn, actor=actor, action="check.replayed", subject=report["check"], data={
            "check": report["check"], "revision": report["revision"], "ruleset_hash": report["ruleset_hash"],
            "verdict_unchanged": report["verdict_unchanged"], "identical": report["identical"],
            "replayed": report["replayed"], "engine_version": report["engine_version"]["replayed"],
        })


_server_engines = ReplayEngines()
# "What would change it", computed on demand, by (check, revision): a check's revision never changes.
_changes_cache: OrderedDict[tuple[str, int], list[dict[str, Any]]] = OrderedDict()
CHANGES_CACHE_SIZE = 4096


async def changes_in_server(db: Database, check: StoredCheck) -> list[dict[str, Any]]:
    """"What would change it" for a stored check, computed once (on the engine thread) and then cached in this
    process; SnapshotError when its rule files are not stored."""
    from ..engines.service import engine_executor

    key = (check.id, check.revision)
    cached = _changes_cache.get(key)
    if cached is not None:
        _changes_cache.move_to_end(key)
        return cached
    if check.verdict.get("changes"):  # stored before explanations were on demand
        computed: list[dict[str, Any]] = check.verdict["changes"]
    else:
        files = await asyncio.to_thread(load_snapshot, db, check.ruleset_hash)
        if files is None:
            raise SnapshotError(f"the rule files of ruleset {check.ruleset_hash[:12]} are not stored on this server")
        loop = asyncio.get_running_loop()
        computed = await loop.run_in_executor(engine_executor(), _server_engines.changes, check, files)
    _changes_cache[key] = computed
    while len(_changes_cache) > CHANGES_CACHE_SIZE:
        _changes_cache.popitem(last=False)
    return computed


async def replay_in_server(db: Database, check: StoredCheck) -> dict[str, Any]:
    """Replay a check on this process's engine thread; SnapshotError when its rule files are not stored."""
    from ..engines.service import engine_executor

    files = await asyncio.to_thread(load_snapshot, db, check.ruleset_hash)
    if files is None:
        raise SnapshotError(f"the rule files of ruleset {check.ruleset_hash[:12]} are not stored on this server")
    loop = asyncio.get_running_loop()
    report: dict[str, Any] = await loop.run_in_executor(engine_executor(), _server_engines.report, check, files)
    return report
