"""A server never starts on a bad rule base: it stops with the file, the rule and the reason, and never says ready.

tests/engine/test_loader.py has every defect at the loader; here the same defects reach the server. One test per defect:
``biotoets --rules DIR serve`` exits 3 with the loader's message (file, rule, JSON path, reason) before it opens
a port. The environment setting (``BIOTOETS_RULES_DIR``) does the same to a real ``biotoets serve`` process, and
the app itself -- started by uvicorn directly, without ``serve``'s check -- fails its start-up in every worker
and never answers ``/readyz`` with 200.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from biotoets.api.cli import main
from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.engine.loader import RuleLoadError, load_rule_base
from tests.engine.test_loader import edit_rule

from .server import HOST, free_port


def schema_error(rules: Path) -> None:
    edit_rule(rules, "germline.reproductive-ban", lambda r: r.update(effect="forbidden"))


def unknown_fact(rules: Path) -> None:
    edit_rule(rules, "xeno.ban", lambda r: r.update(when={"fact": "human.telepathy", "eq": True}))


def dangling_citation(rules: Path) -> None:
    edit_rule(rules, "xeno.ban", lambda r: r["citations"][0].update(source="nl-wet-op-niets"))


def duplicate_id(rules: Path) -> None:
    edit_rule(rules, "xeno.human-animal-chimera", lambda r: r.update(id="xeno.ban"))


def derived_fact_cycle(rules: Path) -> None:
    edit_rule(rules, "animals.classify-biotechnology",
              lambda r: r.update(when={"all": [{"fact": "xenotransplantation", "eq": True}, r["when"]]}))
    edit_rule(rules, "xeno.classify-xenotransplantation",
              lambda r: r.update(when={"all": [{"fact": "animal_biotechnology", "eq": True}, r["when"]]}))


# defect -> (file, rule, words of the reason) the message must name
DEFECTS: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    "schema error": (schema_error, "germline.yaml", "germline.reproductive-ban", "'forbidden'"),
    "unknown fact": (unknown_fact, "xeno.yaml", "xeno.ban", "unknown fact 'human.telepathy'"),
    "dangling citation": (dangling_citation, "xeno.yaml", "xeno.ban", "unknown source 'nl-wet-op-niets'"),
    "duplicate id": (duplicate_id, "xeno.yaml", "xeno.ban", "duplicate rule id"),
    "cycle in derived facts": (derived_fact_cycle, ".yaml", "classify-", "derived facts form a cycle"),
}


def loader_message(rules: Path) -> str:
    with pytest.raises(RuleLoadError) as info:
        load_rule_base(rules)
    return str(info.value)


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_serve_refuses_to_start_on_a_broken_rule_base(defect: str, rules_copy: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    break_it, file, rule, reason = DEFECTS[defect]
    break_it(rules_copy)
    message = loader_message(rules_copy)
    monkeypatch.chdir(tmp_path)
    # serve sets these for its workers: set here first, so that each is put back as it was after the test
    for name in ("BIOTOETS_RULES_DIR", "BIOTOETS_ACCESS_LOG", "BIOTOETS_MIGRATE_ON_START", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    port = free_port()
    assert main(["--rules", str(rules_copy), "serve", "--port", str(port), "--workers", "2"]) == 3
    out, err = capsys.readouterr()
    assert f"biotoets: error: the rule base does not load: {message}" in err
    assert file in err and rule in err and reason in err, err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "never.db").exists()  # stopped before it touched anything


def test_serve_leaves_no_setting_behind() -> None:
    """(The tests above run serve in this process: the next server started here must see the real rules.)"""
    assert not os.environ.get("BIOTOETS_RULES_DIR")


def test_the_environment_setting_stops_a_real_serve_process(rules_copy: Path, tmp_path: Path) -> None:
    unknown_fact(rules_copy)
    message = loader_message(rules_copy)
    port = free_port()
    env = {**os.environ, "BIOTOETS_RULES_DIR": str(rules_copy), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-m", "biotoets.api.cli", "serve", "--host", HOST, "--port", str(port),
                           "--workers", "2"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert message in done.stderr and "Traceback" not in done.stderr


SUPERVISE = """
import sys, uvicorn
from biotoets.api.cli.server import _run
config = uvicorn.Config("biotoets.api.http.app:create_app", factory=True, host=sys.argv[1], port=int(sys.argv[2]),
                        workers=2, timeout_worker_healthcheck=10)
sys.exit(0 if _run(config) else 3)
"""


def test_the_app_never_reports_ready_on_a_broken_rule_base(rules_copy: Path, tmp_path: Path) -> None:
    """Workers started without serve's check (as serve starts them): each fails its start-up, none ever answers
    ready, and the supervisor reports the failure (uvicorn's own would stop with exit code 0)."""
    duplicate_id(rules_copy)
    message = loader_message(rules_copy)
    port = free_port()
    env = {**os.environ, "BIOTOETS_RULES_DIR": str(rules_copy), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    log = (tmp_path / "workers.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", SUPERVISE, HOST, str(port)], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    answers = []
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                answers.append(httpx.get(f"http://{HOST}:{port}/readyz", timeout=5).status_code)
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert proc.poll() is not None, "the server kept running on a broken rule base"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        log.close()
    assert proc.returncode == 3
    assert 200 not in answers
    output = (tmp_path / "workers.log").read_text(errors="replace")
    assert message in output and "Application startup failed" in output


def test_the_app_factory_fails_its_start_up_and_readiness_stays_off(rules_copy: Path, tmp_path: Path) -> None:
    derived_fact_cycle(rules_copy)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", rules_dir=rules_copy))
    with pytest.raises(RuleLoadError, match="derived facts form a cycle"):
        with TestClient(app):
            pass
    state = app.state.biotoets
    assert state.catalogue is None and not state.service.ready
    r = TestClient(app, raise_server_exceptions=False).get("/readyz")  # no lifespan: as a request before start-up
    assert r.status_code == 503
