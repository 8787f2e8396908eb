"""Commands that run or look after the server: ``serve``, ``db upgrade|current|backup``, ``audit verify``.

Each command reads the database from ``DATABASE_URL`` (default: the SQLite
file ``./var/biotoets.db``) and creates or migrates it first.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from .common import EXIT_PROBLEMS, EXIT_RULES, CliError, db_option, load_base, open_db, safe_url, settings_of

STARTUP_FAILURE = 3  # a uvicorn worker's exit code when its start-up failed


# -- serve ---------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    import uvicorn

    from .. import observability
    from ..http import limits
    from ..store import db as dbm

    # Worker processes read their settings from the environment.
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.open_evaluations:
        os.environ["BIOTOETS_OPEN_EVALUATIONS"] = "true"
    # --rules, else the setting the workers will read: the check below must look at the rules they will load.
    rules = getattr(args, "rules", None) or os.environ.get("BIOTOETS_RULES_DIR") or None
    if rules:
        os.environ["BIOTOETS_RULES_DIR"] = os.path.abspath(rules)
        args.rules = rules
    if args.access_log:
        os.environ["BIOTOETS_ACCESS_LOG"] = "true"
    if args.trusted_host:
        os.environ["BIOTOETS_TRUSTED_HOSTS"] = ",".join(args.trusted_host)
    if args.sqlite_synchronous:
        os.environ["BIOTOETS_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
    connection_limits = limits.configure(args)  # http/limits.py: http protocol, keep-alive; sets the workers' env
    load_base(args)  # a rule base that does not load stops here (exit 3), not in every worker
    db = open_db(args)  # migrate once here, before any worker starts
    revision = dbm.current_revision(db)
    db.dispose()
    os.environ["BIOTOETS_MIGRATE_ON_START"] = "false"
    settings = settings_of(args)
    metrics_dir = None
    if args.workers > 1:  # worker processes count into one shared directory, so /metrics covers all of them
        metrics_dir = tempfile.mkdtemp(prefix="biotoets-metrics-")
        os.environ[observability.MULTIPROC_ENV] = metrics_dir
    print(f"biotoets: serving on http://{args.host}:{args.port} ({args.workers} worker"
          f"{'s' if args.workers != 1 else ''}, {'SQLite' if settings.is_sqlite else 'PostgreSQL'} "
          f"{safe_url(settings.database_url)}, schema {revision}); API docs at /docs", file=sys.stderr)
    try:
        # SIGTERM or Ctrl-C: stop accepting, finish the requests in flight (at most --shutdown-timeout
        # seconds), then each worker drains its engine thread and its check writer (app lifespan).
        config = uvicorn.Config(
            "biotoets.api.http.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
            loop="uvloop", access_log=False, log_level=args.log_level, **connection_limits,
            log_config=observability.log_config(args.log_level), timeout_graceful_shutdown=args.shutdown_timeout,
            # A new worker answers uvicorn's health ping only once it has imported its modules; on a busy machine
            # that takes longer than uvicorn's 5 s, and the worker would be killed and restarted over and over.
            timeout_worker_healthcheck=30, server_header=False, backlog=2048,
            # X-Forwarded-For only from the proxies named: anyone else could pick an address to dodge the limits.
            proxy_headers=bool(args.trusted_proxy), forwarded_allow_ips=args.trusted_proxy or None,
        )
        started = _run(config)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    if not started:
        raise CliError("the server did not start: a worker failed its start-up (see the log above)", EXIT_RULES)
    return 0


def _run(config) -> bool:  # type: ignore[no-untyped-def]
    """What ``uvicorn.run`` does, telling whether every worker started (its supervisor stops with no sign of it)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if config.workers > 1:
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        supervisor.run()
        return not any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    config.load_app()
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return bool(server.started)


# -- db ------------------------------------------------------------------------------------------
def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ..store import db as dbm

    db = open_db(args, migrate=False)
    try:
        before, after = dbm.upgrade(db)
    except SQLAlchemyError as exc:
        raise CliError(f"the upgrade failed: {str(exc).splitlines()[0]}") from None
    finally:
        db.dispose()
    if before == after:
        print(f"database is up to date (revision {after})")
    else:
        print(f"database upgraded from revision {before or 'none (empty)'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from ..store import db as dbm

    db = open_db(args, migrate=False)
    try:
        current = dbm.current_revision(db)
    finally:
        db.dispose()
    head = dbm.head_revision()
    print(f"revision {current or 'none (empty database)'}; newest {head}"
          + ("" if current == head else " -- run 'biotoets db upgrade'"))
    return 0 if current == head else EXIT_PROBLEMS


def cmd_db_backup(args: argparse.Namespace) -> int:
    """A consistent copy of a SQLite database while servers may be writing to it, checked before it is kept."""
    from pathlib import Path

    from ..store import backup

    settings = settings_of(args)
    if not settings.is_sqlite:
        raise CliError("'biotoets db backup' copies SQLite databases; for PostgreSQL use pg_dump, which takes a "
                       "consistent snapshot while the servers run")
    target = Path(args.file)
    if target.exists():
        raise CliError(f"{target} exists: choose a new file name (a backup never overwrites)")
    if not target.parent.is_dir():
        raise CliError(f"{target.parent} is not a directory")
    from sqlalchemy.engine import make_url

    source = make_url(settings.database_url).database
    if not source or source == ":memory:" or not Path(source).is_file():
        raise CliError(f"there is no database at {safe_url(settings.database_url)} to back up")
    partial = target.with_name(target.name + ".partial")
    db = open_db(args, migrate=False)
    try:
        backup.copy_sqlite(db, partial)
    finally:
        db.dispose()
    integrity, checks, report = backup.check_copy(partial)
    if integrity != "ok" or not report.ok:
        partial.unlink(missing_ok=True)
        raise CliError(f"the copy failed its check ({integrity}; audit: {report.problems[:1]}); nothing was kept",
                       EXIT_PROBLEMS)
    partial.rename(target)
    print(f"backup {target}: {checks} check(s), audit log {report.records} record(s) intact, "
          f"head {report.head[:16]}")
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (1-65535)")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("use 1 to 64 workers")
    return value


def _proxy(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or network (such as 10.0.0.5 or "
                                         "10.0.0.0/24)") from None


def add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..http import limits

    p = sub.add_parser("serve", help="serve the HTTP API (SQLite by default; DATABASE_URL for PostgreSQL)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    p.add_argument("--open-evaluations", action="store_true",
                   help="allow POST /v1/evaluations without an API key")
    p.add_argument("--access-log", action="store_true", help="log every request (a JSON line with its request id)")
    p.add_argument("--shutdown-timeout", type=int, default=30, metavar="SECONDS",
                   help="on SIGTERM, wait at most this long for requests in flight (default 30)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--trusted-proxy", type=_proxy, action="append", default=[], metavar="ADDRESS",
                   help="a reverse proxy (IP address or network; repeatable) whose X-Forwarded-For names the client "
                        "for rate limits and logs; without it that header is ignored")
    p.add_argument("--trusted-host", action="append", default=[], metavar="NAME",
                   help="a host name clients reach this server by (repeatable); other Host headers get 400 "
                        "(default: any host is answered)")
    limits.add_options(p)
    p.add_argument("--sqlite-synchronous", choices=("full", "normal"), default=None,
                   help="SQLite only: full (default) keeps every acknowledged check through a power loss; normal "
                        "is faster and survives a killed process, but may lose the last checks on a power loss")
    db_option(p)
    p.set_defaults(func=cmd_serve)


def add_commands(sub: argparse._SubParsersAction) -> tuple[argparse._SubParsersAction, argparse._SubParsersAction]:  # type: ignore[type-arg]
    """``db`` and ``audit``; returns both groups' sub-commands for cli/audit.py to add to."""
    dbp = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", metavar="ACTION")
    dbp.required = True
    p = dbp.add_parser("upgrade", help="create the database or migrate it to the newest schema")
    db_option(p)
    p.set_defaults(func=cmd_db_upgrade)
    p = dbp.add_parser("current", help="show the schema revision; non-zero exit if an upgrade is due")
    db_option(p)
    p.set_defaults(func=cmd_db_current)
    p = dbp.add_parser("backup", help="copy a SQLite database while servers run, and check the copy")
    p.add_argument("file", metavar="FILE", help="the new backup file (never overwritten)")
    db_option(p)
    p.set_defaults(func=cmd_db_backup)

    aud = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_cmd", metavar="ACTION")
    aud.required = True
    return dbp, aud  # audit verify|keygen|checkpoint and db grant: cli/audit.py
