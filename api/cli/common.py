"""What every command group shares: exit codes, the error a command raises, reading rules and input."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import RuleLoadError, load_rule_base
from biotoets.engine.model import RuleBase
from biotoets.engine.scenarios import load_scenario

from ..settings import Settings, SettingsError, normalise_database_url
from ..vocab import LANGS

if TYPE_CHECKING:
    from ..store.db import Database

T = TypeVar("T")

# The --lang choices (vocab.LANGS), in the order the help has always listed them.
LANG_CHOICES: tuple[str, ...] = tuple(reversed(LANGS))

EXIT_PROBLEMS, EXIT_INPUT, EXIT_RULES, EXIT_ENGINE = 1, 2, 3, 4

class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def rules_dir_arg(args: argparse.Namespace) -> Path | None:
    return Path(args.rules) if getattr(args, "rules", None) else None


def load_base(args: argparse.Namespace) -> RuleBase:
    try:
        return load_rule_base(rules_dir_arg(args))
    except RuleLoadError as exc:
        raise CliError(f"the rule base does not load: {exc}", EXIT_RULES) from None


def make_engine(base: RuleBase) -> Engine:
    try:
        return Engine(base)
    except RuleLoadError as exc:
        raise CliError(f"the rule base does not compile: {exc}", EXIT_RULES) from None


def scenario_engine(args: argparse.Namespace, name: str) -> Engine:
    """An engine for today's rules with a policy scenario applied."""
    try:
        base, info = load_scenario(name, rules_dir_arg(args))
        return Engine(base, name=f"scenario/{name}", scenario=info)
    except RuleLoadError as exc:
        raise CliError(f"the scenario does not load: {exc}", EXIT_RULES) from None


def read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read(2_000_001)
    path = Path(name)
    try:
        if path.is_dir():
            raise CliError(f"{name}: is a directory, not a proposal file")
        with path.open("rb") as fh:
            return fh.read(2_000_001)
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read: {exc.strerror}") from None


# -- the database, for the commands that use one ---------------------------------------------------------
def settings_of(args: argparse.Namespace) -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    if getattr(args, "database_url", None):
        settings = settings.with_(database_url=normalise_database_url(args.database_url))
    return settings


def open_db(args: argparse.Namespace, migrate: bool = True) -> Database:
    from ..store import db as dbm

    settings = settings_of(args)
    try:
        return dbm.open_database(settings, migrate=migrate)
    except SQLAlchemyError as exc:
        raise CliError(f"cannot open the database {safe_url(settings.database_url)}: "
                       f"{str(exc).splitlines()[0]}") from None


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return "(unparsable DATABASE_URL)"


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def on_key(args: argparse.Namespace, change: Callable[[Database, str], T | None]) -> tuple[str, T]:
    """(key id, result) of ``change`` on the key named by ``args.key_id`` -- an id, or a whole key pasted -- in
    the database; a CLI error when there is no active key with that id (``change`` gave None or False)."""
    from ..store.keys import split_key

    parts = split_key(args.key_id)
    key_id = parts[0] if parts is not None else args.key_id
    db = open_db(args)
    try:
        result = change(db, key_id)
    finally:
        db.dispose()
    if result is None or result is False:
        raise CliError(f"no active key with id {key_id!r} (see 'biotoets keys list')")
    return key_id, result


def db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL",
                   help="database (default: $DATABASE_URL, else sqlite:///./var/biotoets.db)")
