"""The tamper matrix: ways someone with write access could rewrite history x SQLite / PostgreSQL x detected.

Each scenario starts from a fresh database holding keys (one revoked), two checks and a review, and a signed
checkpoint of its audit log taken with a key kept outside the database. Then the scenario tampers -- as the
database's owner, who may drop the guards first, or (PostgreSQL) as the application role ``biotoets db grant``
makes. It counts as detected when the database refuses the change, or when ``biotoets audit verify
--checkpoint FILE --public-key FILE.pub`` exits non-zero naming a problem. Every scenario must be detected; the
matrix is one of the reliability figures.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from biotoets.api.cli import main
from biotoets.api.settings import Settings
from biotoets.api.store import audit, checks, grants, reviews
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.workflow import ReviewRequest
from biotoets.engine.evaluate import Engine
from tests.api.helpers import GERMLINE
from tests.databases import DATABASES, postgres_schema
from tests.figures import note, tally

SQLITE_GUARDS = ("audit_log_no_update", "audit_log_no_delete", "audit_log_append_in_order", "audit_head_forward",
                 "audit_head_kept", "audit_head_single")
MATRIX: dict[str, dict[str, str]] = {}


@dataclass
class Scene:
    kind: str
    url: str
    db: dbm.Database
    tmp: Path
    check_ids: list[str]
    applicant: str
    revoked: str

    @contextmanager
    def unguarded(self) -> Iterator[Connection]:
        """A write transaction with the audit guards off, as the owner can have it."""
        with self.db.write() as conn:
            if self.kind == "sqlite":
                for name in SQLITE_GUARDS:
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            else:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn


@contextmanager
def scene(kind: str, tmp: Path, engine: Engine) -> Iterator[Scene]:
    with _url(kind, tmp) as url:
        db = dbm.open_database(Settings(database_url=url))
        try:
            applicant = auth.create_key(db, "applicant", "Lab A")
            assessor = auth.create_key(db, "assessor", "Permit office")
            revoked = auth.create_key(db, "applicant", "Lab gone").principal.key_id
            auth.revoke_key(db, revoked)
            verdict = engine.evaluate(GERMLINE, dt.date(2026, 11, 28))
            made = [checks.prepare(checks.NewCheck(applicant.principal, "{}", "application/json", GERMLINE, "t",
                                                   verdict, "en")) for _ in range(2)]
            checks.store(db, made)
            ids = [m.check.id for m in made]
            for step in ({"decision": "start_review"}, {"decision": "override", "verdict": "prohibited",
                                                        "reason": "Transfer is planned."}):
                reviews.decide(db, ids[0], assessor.principal, ReviewRequest(**step))
            yield Scene(kind, url, db, tmp, ids, applicant.principal.key_id, revoked)
        finally:
            db.dispose()


@contextmanager
def _url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'tamper.db'}"
    else:
        with postgres_schema("biotoets_tamper") as url:
            yield url


def _verify(s: Scene, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--database-url", s.url, "--checkpoint", str(s.tmp / "checkpoint.json"),
                 "--public-key", str(s.tmp / "signing.key.pub")])
    return code, capsys.readouterr().out


# -- the scenarios: each tampers and returns nothing (or raises the database's refusal) ----------------------
def rewrite_in_place(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE audit_log SET payload = replace(payload, 'Transfer', 'No transfer') "
                          "WHERE action = 'review.overridden'"))


def replace_record(s: Scene) -> None:
    copy = ("SELECT seq, at, actor, action, subject, replace(payload, 'prohibited', 'allowed'), prev_hash, hash "
            "FROM audit_log WHERE action = 'review.overridden'")
    with s.db.write() as conn:
        if s.kind == "sqlite":
            conn.execute(text(f"INSERT OR REPLACE INTO audit_log {copy}"))
        else:
            conn.execute(text(f"INSERT INTO audit_log {copy} ON CONFLICT (seq) DO UPDATE SET payload = "
                              "excluded.payload"))


def move_head_back(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit_log WHERE seq = "
                          "(SELECT max(seq) - 1 FROM audit_log))"))


def edit_unguarded(s: Scene) -> None:
    with s.unguarded() as conn:
        conn.execute(text("UPDATE audit_log SET payload = replace(payload, 'Transfer is planned.', 'Fine.') "
                          "WHERE action = 'review.overridden'"))


def edit_and_rehash(s: Scene) -> None:
    """Soften the recorded reason, recompute every hash from there on, and move the head: the chain is whole."""
    with s.unguarded() as conn:
        rows = conn.execute(text("SELECT seq, payload, prev_hash FROM audit_log ORDER BY seq")).all()
        prev = None
        for seq, payload, prev_hash in rows:
            new_payload = payload.replace("Transfer is planned.", "Fine.")
            if prev is None and new_payload == payload:
                continue
            prev = prev if prev is not None else prev_hash
            digest = audit.record_hash(prev, new_payload)
            conn.execute(text("UPDATE audit_log SET payload = :p, prev_hash = :prev, hash = :h WHERE seq = :s"),
                         {"p": new_payload, "prev": prev, "h": digest, "s": seq})
            prev = digest
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    assert audit.verify(s.db).ok  # the chain alone no longer shows it


def cut_off_the_end(s: Scene) -> None:
    """Remove the last two records (the override and the start of the review) and move the head back."""
    with s.unguarded() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log)"))
        conn.execute(text("UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_log), "
                          "hash = (SELECT hash FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log))"))
    assert audit.verify(s.db).ok


def remove_a_check(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("DELETE FROM checks WHERE id = :c"), {"c": s.check_ids[1]})


def add_a_check(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("INSERT INTO checks (id, owner, status, created_at, title, verdict, complete, "
                          "could_become, could_fall_to, as_of, lang, scenario, ruleset_hash, engine_version, "
                          "proposal_raw, proposal_media_type, proposal_json, verdict_json, open_norms, revision) "
                          "SELECT 'forged-check', owner, status, created_at, title, verdict, complete, could_become, "
                          "could_fall_to, as_of, lang, scenario, ruleset_hash, engine_version, proposal_raw, "
                          "proposal_media_type, proposal_json, verdict_json, open_norms, revision FROM checks "
                          "WHERE id = :c"), {"c": s.check_ids[1]})


def change_a_verdict(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE checks SET verdict = 'allowed' WHERE id = :c"), {"c": s.check_ids[1]})


def skip_the_review(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE checks SET status = 'confirmed' WHERE id = :c"), {"c": s.check_ids[1]})


def remove_a_review(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("DELETE FROM reviews WHERE decision = 'override'"))


def promote_a_key(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE api_keys SET role = 'admin' WHERE id = :k"), {"k": s.applicant})


def revive_a_key(s: Scene) -> None:
    with s.db.write() as conn:
        conn.execute(text("UPDATE api_keys SET revoked_at = NULL WHERE id = :k"), {"k": s.revoked})


def app_role_switches_triggers_off(s: Scene) -> None:
    """PostgreSQL: the servers connect as the role 'biotoets db grant' made; it tries to get round the triggers."""
    role = "biotoets_app_" + secrets.token_hex(4)
    grants.grant(s.db, role)
    app = dbm.Database(make_url(s.url).set(username=role).render_as_string(hide_password=False))
    try:
        with app.write() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"))
    finally:
        app.dispose()
        with s.db.write() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


SCENARIOS: dict[str, tuple[Callable[[Scene], None], tuple[str, ...]]] = {
    "rewrite a record in place (UPDATE)": (rewrite_in_place, ("sqlite", "postgresql")),
    "replace a record (INSERT OR REPLACE / upsert)": (replace_record, ("sqlite", "postgresql")),
    "move the chain head back": (move_head_back, ("sqlite", "postgresql")),
    "guards off, edit a record": (edit_unguarded, ("sqlite", "postgresql")),
    "guards off, edit a record and recompute every hash": (edit_and_rehash, ("sqlite", "postgresql")),
    "guards off, cut off the last records, move the head": (cut_off_the_end, ("sqlite", "postgresql")),
    "remove a stored check": (remove_a_check, ("sqlite", "postgresql")),
    "add a check behind the server's back": (add_a_check, ("sqlite", "postgresql")),
    "change a stored verdict": (change_a_verdict, ("sqlite", "postgresql")),
    "set a check's status without a review": (skip_the_review, ("sqlite", "postgresql")),
    "remove a review": (remove_a_review, ("sqlite", "postgresql")),
    "give a key another role directly": (promote_a_key, ("sqlite", "postgresql")),
    "un-revoke a key": (revive_a_key, ("sqlite", "postgresql")),
    "application role switches the triggers off": (app_role_switches_triggers_off, ("postgresql",)),
}
CASES = [(name, kind) for name, (_, kinds) in SCENARIOS.items() for kind in kinds if kind in DATABASES]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_tampering_is_detected(name: str, kind: str, tmp_path: Path, engine: Engine,
                               capsys: pytest.CaptureFixture[str]) -> None:
    tamper = SCENARIOS[name][0]
    with scene(kind, tmp_path, engine) as s:
        assert main(["audit", "keygen", str(tmp_path / "signing.key")]) == 0
        assert main(["audit", "checkpoint", "--key", str(tmp_path / "signing.key"), "--out",
                     str(tmp_path / "checkpoint.json"), "--database-url", s.url]) == 0
        capsys.readouterr()
        code, out = _verify(s, capsys)
        assert code == 0 and out.rstrip().endswith("intact"), out  # untouched, everything agrees
        tally("tamper scenarios tried")
        try:
            tamper(s)
        except DBAPIError as refused:
            how = "refused: " + str(refused.orig).splitlines()[0][:60]
        else:
            code, out = _verify(s, capsys)
            assert code == 1, f"{name} on {kind} went unnoticed:\n{out}"
            how = "verify: " + out.splitlines()[0][:60]
        tally("tamper scenarios detected")
        MATRIX.setdefault(name, {})[kind] = how
        note(f"tamper {name}", "; ".join(f"{k}: {v}" for k, v in sorted(MATRIX[name].items())))
