"""The ``keys`` commands: create, list, revoke, rotate, set-role. A key's secret is printed once, alone on a
line; everything else goes to stderr."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from .common import CliError, actor, db_option, on_key, open_db


def cmd_keys_create(args: argparse.Namespace) -> int:
    from ..store.db import utcnow
    from ..store.keys import create_key

    db = open_db(args)
    try:
        expires = utcnow() + dt.timedelta(days=args.expires_in) if args.expires_in else None
        new = create_key(db, args.role, args.name, actor=actor(), expires_at=expires)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.dispose()
    print(new.key)
    sys.stdout.flush()
    until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    print(f"biotoets: created {new.principal.role.value} key {new.principal.key_id} for {new.principal.name!r}"
          f"{until}. It is shown only this once: store it now.", file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from ..store.keys import expired, list_keys

    db = open_db(args)
    try:
        keys = list_keys(db)
    finally:
        db.dispose()
    for k in keys:
        if k.revoked_at:
            state = f"revoked {k.revoked_at:%Y-%m-%d}"
        elif k.expires_at and expired(k.expires_at):
            state = f"expired {k.expires_at:%Y-%m-%d}"
        elif k.expires_at:
            state = f"active to {k.expires_at:%Y-%m-%d}"
        else:
            state = "active"
        print(f"{k.id}  {k.role:<9}  {state:<18}  {k.name}")
    print(f"{len(keys)} key(s)", file=sys.stderr)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from ..store.keys import revoke_key

    key_id, _ = on_key(args, lambda db, key_id: revoke_key(db, key_id, actor=actor()))
    print(f"biotoets: revoked key {key_id}; servers refuse it within a second.", file=sys.stderr)
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from ..store.keys import rotate_key

    key_id, new = on_key(args, lambda db, key_id: rotate_key(db, key_id, actor=actor()))
    print(new.key)
    sys.stdout.flush()
    print(f"biotoets: key {key_id} ({new.principal.name!r}) has a new secret, shown only this once: store it now. "
          "The old one stops working within a second; its web sessions have ended; its checks stay its own.",
          file=sys.stderr)
    return 0


def cmd_keys_set_role(args: argparse.Namespace) -> int:
    from ..store.keys import set_role

    key_id, before = on_key(args, lambda db, key_id: set_role(db, key_id, args.role, actor=actor()))
    print(f"biotoets: key {key_id} now has role {args.role} (was {before}); servers apply it within a second.",
          file=sys.stderr)
    return 0


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= 3650:
        raise argparse.ArgumentTypeError("use 1 to 3650 days")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_cmd", metavar="ACTION")
    keys.required = True
    p = keys.add_parser("create", help="create a key; prints it once, alone on a line")
    p.add_argument("--role", required=True, choices=("applicant", "assessor", "admin"))
    p.add_argument("--name", required=True, help="who or what uses the key")
    p.add_argument("--expires-in", type=_days, metavar="DAYS",
                   help="refuse the key after this many days (1-3650; default: it does not expire)")
    db_option(p)
    p.set_defaults(func=cmd_keys_create)
    p = keys.add_parser("list", help="list keys (ids, roles, names; never secrets)")
    db_option(p)
    p.set_defaults(func=cmd_keys_list)
    p = keys.add_parser("revoke", help="revoke a key by its id")
    p.add_argument("key_id", metavar="KEY_ID")
    db_option(p)
    p.set_defaults(func=cmd_keys_revoke)
    p = keys.add_parser("rotate", help="give a key a new secret (same id: its checks stay its own); prints it once")
    p.add_argument("key_id", metavar="KEY_ID")
    db_option(p)
    p.set_defaults(func=cmd_keys_rotate)
    p = keys.add_parser("set-role", help="change a key's role (recorded in the audit log)")
    p.add_argument("key_id", metavar="KEY_ID")
    p.add_argument("role", choices=("applicant", "assessor", "admin"))
    db_option(p)
    p.set_defaults(func=cmd_keys_set_role)
