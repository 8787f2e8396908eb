"""The ``replay ID`` command.

``biotoets replay ID`` evaluates a stored check again under the rule files it
was evaluated with (the snapshot kept in the database), on the stored date and
in the stored language, and says whether the verdict is unchanged. The replay
is recorded in the audit log. Exit 0 when the verdict is unchanged, 1 when it
differs, 2 when there is no such check or its rule files are not stored.
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import EXIT_PROBLEMS, CliError, actor, db_option, open_db


def cmd_replay(args: argparse.Namespace) -> int:
    from ..store import checks, receipts

    db = open_db(args)
    try:
        check = checks.load_check(db, args.check_id)
        if check is None:
            raise CliError(f"no check with id {args.check_id!r}")
        try:
            files = receipts.load_snapshot(db, check.ruleset_hash)
        except receipts.SnapshotError as exc:
            raise CliError(str(exc)) from None
        if files is None:
            raise CliError(f"the rule files of ruleset {check.ruleset_hash[:12]} are not stored in this database; "
                           "the check cannot be replayed")
        report = receipts.ReplayEngines(size=1).report(check, files)
        report["audit_record"] = receipts.record_replay(db, actor(), report)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        s, r = report["stored"], report["replayed"]
        print(f"check {report['check']} (evaluation {report['revision']}), law as of {report['as_of']}, "
              f"ruleset {report['ruleset_hash'][:16]}, engine {report['engine_version']['stored']} -> "
              f"{report['engine_version']['replayed']}")
        print(f"stored:   {s['verdict']} (complete: {str(s['complete']).lower()}, could become {s['could_become']})")
        print(f"replayed: {r['verdict']} (complete: {str(r['complete']).lower()}, could become {r['could_become']})")
        if report["verdict_unchanged"]:
            print("verdict unchanged" + ("; the whole verdict document is identical" if report["identical"]
                                         else f"; other parts differ: {', '.join(report['differences'])}"))
        else:
            print("VERDICT CHANGED; parts that differ: " + ", ".join(report["differences"]))
        print(f"recorded as audit record {report['audit_record']}", file=sys.stderr)
    return 0 if report["verdict_unchanged"] else EXIT_PROBLEMS


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replay", help="evaluate a stored check again under the rule files it used; non-zero exit "
                       "if the verdict changed")
    p.add_argument("check_id", metavar="ID", help="the check's id")
    p.add_argument("--json", action="store_true", help="print the replay report as JSON")
    db_option(p)
    p.set_defaults(func=cmd_replay)
