"""CLI commands that make the audit log trustworthy against someone with write access to the database.

``audit verify`` checks the hash chain, cross-checks the log against the checks, reviews and keys it describes,
and, with ``--checkpoint``, proves the log was neither changed nor cut off up to a signed checkpoint.
``audit keygen`` makes the Ed25519 signing key (kept outside the database), ``audit checkpoint`` signs the head.
``db grant`` (PostgreSQL) sets up the role the servers should connect as: it may add audit records and read
them, never change or remove them, and cannot switch the triggers off.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from .common import EXIT_PROBLEMS, CliError, db_option, open_db, settings_of


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ..store import audit, crosscheck
    from ..store import checkpoint as cp

    try:
        trusted = cp.load_public(Path(args.public_key)) if args.public_key else None
        docs = [(path, cp.load(Path(path))) for path in args.checkpoint]
    except cp.CheckpointError as exc:
        raise CliError(str(exc)) from None
    db = open_db(args)
    try:
        report = audit.verify(db)
        problems = list(report.problems) + crosscheck.crosscheck(db)
        notes = []
        for path, doc in docs:
            checked = cp.check(db, doc, trusted)
            problems += checked.problems
            if not checked.problems:
                signer = "the trusted key" if trusted else f"key {checked.key} (named in the file: compare it)"
                notes.append(f"checkpoint {path}: records 1-{checked.seq} unchanged and present since "
                             f"{checked.at}, signed by {signer}")
    finally:
        db.dispose()
    for p in problems:
        print(p)
    for n in notes:
        print(n)
    print(f"audit log: {report.records} record(s), head {report.head[:16]}: "
          + ("intact" if not problems else f"{len(problems)} problem(s)"))
    return 0 if not problems else EXIT_PROBLEMS


def cmd_audit_keygen(args: argparse.Namespace) -> int:
    from ..store import checkpoint as cp

    try:
        public = cp.create_key(Path(args.file))
    except cp.CheckpointError as exc:
        raise CliError(str(exc)) from None
    print(f"biotoets: signing key {args.file} (keep it off the database host), public key {args.file}.pub, "
          f"fingerprint {cp.fingerprint(public)}", file=sys.stderr)
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from ..store import checkpoint as cp
    from ..store.db import utcnow

    try:
        key = cp.load_private(Path(args.key))
    except cp.CheckpointError as exc:
        raise CliError(str(exc)) from None
    db = open_db(args)
    try:
        doc = cp.make(db, key, utcnow())
    finally:
        db.dispose()
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.out:
        try:
            with open(args.out, "x", encoding="utf-8") as f:
                f.write(text)
        except FileExistsError:
            raise CliError(f"{args.out} exists: a checkpoint is never overwritten") from None
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    print(f"biotoets: checkpoint of record {doc['seq']} signed with key {doc['key']}", file=sys.stderr)
    return 0


def cmd_db_grant(args: argparse.Namespace) -> int:
    from ..store import grants

    settings = settings_of(args)
    if settings.is_sqlite:
        raise CliError("'biotoets db grant' sets up a PostgreSQL role; an SQLite file has no roles (protect the "
                       "file with the operating system's permissions)")
    db = open_db(args)
    try:
        statements = grants.grant(db, args.role, password=args.password)
    except grants.GrantError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.dispose()
    for s in statements:
        print(s if "PASSWORD" not in s else s.split(" PASSWORD ")[0] + " PASSWORD '…'")
    print(f"biotoets: role {args.role} may use the tables and only add and read audit records; let the servers "
          f"connect as it (DATABASE_URL=postgresql://{args.role}@…) and keep the owner's login for migrations.",
          file=sys.stderr)
    return 0


def add_commands(dbp: argparse._SubParsersAction, aud: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``audit verify|keygen|checkpoint`` and ``db grant``, into the groups cli/server.py made."""
    p = aud.add_parser("verify", help="check the audit log's hash chain, cross-check it against the checks, "
                                      "reviews and keys, and against signed checkpoints; non-zero exit on a problem")
    p.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                   help="a checkpoint from 'biotoets audit checkpoint' (repeatable): the log must still hold the "
                        "signed record, unchanged")
    p.add_argument("--public-key", metavar="FILE",
                   help="the key the checkpoints must be signed with (KEY.pub from 'audit keygen', or the key)")
    db_option(p)
    p.set_defaults(func=cmd_audit_verify)
    p = aud.add_parser("keygen", help="make an Ed25519 signing key for checkpoints (FILE and FILE.pub)")
    p.add_argument("file", metavar="FILE", help="the new key file (never overwritten); keep it off the database host")
    p.set_defaults(func=cmd_audit_keygen)
    p = aud.add_parser("checkpoint", help="sign the audit log's head with a key kept outside the database")
    p.add_argument("--key", required=True, metavar="FILE", help="the signing key from 'biotoets audit keygen'")
    p.add_argument("--out", metavar="FILE", help="write the checkpoint here (never overwritten); default: stdout")
    db_option(p)
    p.set_defaults(func=cmd_audit_checkpoint)

    p = dbp.add_parser("grant", help="PostgreSQL: create or update the role the servers connect as (audit "
                                     "records: add and read only)")
    p.add_argument("--role", required=True, metavar="NAME", help="the application role, e.g. biotoets_app")
    p.add_argument("--password", metavar="TEXT", help="its login password (default: none; e.g. for peer or "
                                                      "certificate authentication)")
    db_option(p)
    p.set_defaults(func=cmd_db_grant)
