"""The ``biotoets`` command line.

Exit codes: 0 success; 1 a check found problems (case mismatches, lint findings);
2 bad input or usage; 3 the rule base does not load; 4 the engine failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from biotoets.engine.host import EngineError
from biotoets.engine.loader import RuleLoadError

from ..documents.inputs import InputError
from . import audit, keys, replay, rules, server
from .common import EXIT_ENGINE, EXIT_INPUT, EXIT_RULES, CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biotoets",
        description="Pre-check biotechnology proposals under Dutch and EU law. "
        "Decision support, not legal advice.",
    )
    parser.add_argument("--rules", metavar="DIR", help="rule directory (default: the shipped rules)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    rules.add_commands(sub)  # check, rules, casebase, scenarios, impact, schema
    server.add_serve(sub)
    keys.add_commands(sub)
    audit.add_commands(*server.add_commands(sub))  # db, audit
    replay.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"biotoets: error: {exc}", file=sys.stderr)
        return exc.code
    except InputError as exc:
        print(f"biotoets: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RuleLoadError as exc:
        print(f"biotoets: error: the rule base does not load: {exc}", file=sys.stderr)
        return EXIT_RULES
    except EngineError as exc:
        print(f"biotoets: error: the engine failed, no verdict: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    except KeyboardInterrupt:
        print("biotoets: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> Any:  # pragma: no cover - console entry point
    sys.exit(main())
