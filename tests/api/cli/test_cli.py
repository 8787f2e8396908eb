"""The command line: every answer and every error message a user can get."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from biotoets.api.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "germline-editing.yaml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_check_prints_verdict_with_article_citations(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--as-of", "2026-11-28")
    assert code == 0
    assert out.startswith("Verdict: CONDITIONAL")
    assert "Embryowet (Stb. 2002, 338), art. 3 [BWBR0013797]" in out
    assert "human.pregnancy_intended; could lead to PROHIBITED" in out
    assert "not legal advice" in out


def test_check_json_follows_the_verdict_schema(capsys):
    from jsonschema import Draft202012Validator

    code, out, _ = run(capsys, "check", str(EXAMPLE), "--json")
    assert code == 0
    verdict = json.loads(out)
    schema = json.loads((ROOT / "schemas" / "verdict.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(verdict)


def test_check_text_says_what_would_change_it(capsys):
    """The terminal's text output is asked for one verdict: it explains, as the JSON output does."""
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--as-of", "2026-11-28", "--json")
    changes = json.loads(out)["changes"]
    assert code == 0 and changes
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--as-of", "2026-11-28")
    assert "What would change it:" in out
    assert all(f"  - {c['text']['en']}" in out for c in changes)


def test_check_in_dutch(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--lang", "nl")
    assert code == 0 and out.startswith("Oordeel: ONDER VOORWAARDEN")
    assert "geen juridisch advies" in out


def test_check_as_of_past_date(capsys, tmp_path):
    f = write(tmp_path, "p.json", json.dumps({"transplant": {"source": "animal", "living_material": True,
                                                            "recipient": "human"}}))
    assert run(capsys, "check", f, "--as-of", "2026-01-01")[1].startswith("Verdict: PROHIBITED")
    assert "Verdict: PROHIBITED" not in run(capsys, "check", f, "--as-of", "2001-01-01")[1]


def test_check_reads_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"activity": "production"}')))
    code, out, _ = run(capsys, "check", "-")
    # one fact and no scope answered: not a verdict yet
    assert code == 0 and out.startswith("Not enough information yet  (on the facts given: ALLOWED")
    # nothing applies on the facts given, which is no verdict yet: the ground says "checked", not "allowed"
    assert "  [CHECKED] None of the" in out and "[ALLOWED] None of the" not in out


def test_a_determined_allowed_verdict_says_allowed_in_its_ground(capsys, tmp_path):
    nothing = {"human": {"embryo": False, "gametes": False, "somatic_cells": False, "subjects": False},
               "animal": {"involved": False}, "plant": {"involved": False}, "gmo": {"use": "none"},
               "transplant": {"source": "none"}, "medicine": {"medicinal_product": False}, "partners": [],
               "export": {"destination_countries": [], "intangible_transfer": False}}
    out = run(capsys, "check", write(tmp_path, "n.json", json.dumps(nothing)))[1]
    assert out.startswith("Verdict: ALLOWED") and "  [ALLOWED] None of the" in out


def test_check_accepts_a_case_file_entry(capsys, tmp_path):
    text = "proposal:\n  transplant: {source: animal, living_material: true, recipient: human}\n"
    f = write(tmp_path, "c.yaml", text)
    assert run(capsys, "check", f)[1].startswith("Verdict: PROHIBITED")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("human: [unclosed\n", "is not valid YAML or JSON"),
        ("- just\n- a list\n", "must be a mapping of fields (an object), not list"),
        ("", "not an empty document"),
        ("human:\n  embryo: maybe\n", "/human/embryo: must be true or false"),
        ("humn: {}\n", "/humn: this field is not part of a proposal"),
        ("technique: magic\n", "/technique: must be one of"),
        ("human:\n  embryo_culture_days: -3\n", "/human/embryo_culture_days"),
        ("partners:\n  - country: netherlands\n", "/partners/0/country"),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases are not allowed"),
        ("activity: export\nactivity: market\n", "duplicate key 'activity'"),
        ("x: " + "[" * 40 + "]" * 40 + "\n", "nested more than"),
    ],
)
def test_check_bad_input_names_the_problem(capsys, tmp_path, content, message):
    f = write(tmp_path, "bad.yaml", content)
    code, out, err = run(capsys, "check", f)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and out == ""


def test_check_billion_laughs_is_refused_fast(capsys, tmp_path):
    lol = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    for i in range(ord("b"), ord("j")):
        prev = chr(i - 1)
        lol += f"{chr(i)}: &{chr(i)} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    code, _, err = run(capsys, "check", write(tmp_path, "lol.yaml", lol))
    assert code == 2 and "anchors and aliases are not allowed" in err


def test_check_missing_file_directory_and_binary(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 2 and "is a directory" in err
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(capsys, "check", str(binary))
    assert code == 2 and "not UTF-8" in err


def test_check_oversized_file(capsys, tmp_path):
    f = write(tmp_path, "big.yaml", "title: " + "x" * 1_100_000 + "\n")
    code, _, err = run(capsys, "check", f)
    assert code == 2 and "larger than" in err


def test_bad_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", str(EXAMPLE), "--as-of", "28-11-2026"])
    assert info.value.code == 2
    assert "is not a date (use YYYY-MM-DD)" in capsys.readouterr().err


def test_rules_list_and_show(capsys, base):
    code, out, _ = run(capsys, "rules", "list")
    assert code == 0 and "germline.reproductive-ban" in out and f"{len(base.rules)} rules" in out
    code, out, _ = run(capsys, "rules", "list", "--json", "--domain", "xeno")
    assert code == 0 and {r["domain"] for r in json.loads(out)} == {"xeno"}
    code, out, _ = run(capsys, "rules", "show", "xeno.ban")
    assert code == 0
    assert "art. 6a lid 1" in out and "BWBR0008974" in out
    assert '"Het uitvoeren van medische verrichtingen met toepassing van xenotransplantatie is verboden."' in out


def test_rules_show_unknown_id_suggests(capsys):
    code, _, err = run(capsys, "rules", "show", "ban")
    assert code == 2 and "no rule with id 'ban'; did you mean" in err
    code, _, err = run(capsys, "rules", "list", "--domain", "astrology")
    assert code == 2 and "no rules in domain 'astrology'" in err


def test_broken_rule_directory_exits_3(capsys, tmp_path):
    code, _, err = run(capsys, "--rules", str(tmp_path), "rules", "list")
    assert code == 3 and "sources.yaml: file is missing" in err


def test_casebase_run_passes_on_the_shipped_cases(capsys):
    code, out, _ = run(capsys, "casebase", "run", "--quiet", "--coverage")
    assert code == 0
    assert "0 failed" in out.splitlines()[-1]
    assert "rule coverage:" in out and "question coverage:" in out


def test_casebase_mismatch_exits_1(capsys, tmp_path):
    case = {"cases": [{"id": "wrong", "why": "A deliberately wrong expectation.",
                       "proposal": {"transplant": {"source": "animal", "living_material": True, "recipient": "human"}},
                       "expected": {"verdict": "allowed", "rules": ["xeno.classify-xenotransplantation"]}}]}
    f = write(tmp_path, "cases.yaml", yaml.safe_dump(case))
    code, out, _ = run(capsys, "casebase", "run", f, "--quiet")
    assert code == 1
    assert "FAIL wrong (cases.yaml): verdict prohibited, expected allowed" in out


def test_casebase_invalid_file_exits_2(capsys, tmp_path):
    f = write(tmp_path, "cases.yaml", "cases:\n  - id: x\n")
    code, _, err = run(capsys, "casebase", "run", f, "--quiet")
    assert code == 2 and "cases.yaml" in err and "required property" in err
    code, _, err = run(capsys, "casebase", "run", str(tmp_path / "none"), "--quiet")
    assert code == 2 and "no such file or directory" in err


def test_schema_export_matches_committed_file(capsys):
    code, out, _ = run(capsys, "schema", "export")
    assert code == 0
    assert json.loads(out) == json.loads((ROOT / "schemas" / "proposal.schema.json").read_text(encoding="utf-8"))


def test_console_script_never_shows_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("human: {embryo: maybe}\n", encoding="utf-8")
    exe = Path(sys.executable).with_name("biotoets")
    proc = subprocess.run([str(exe), "check", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("biotoets: error:")


@pytest.mark.parametrize("doc,pointer", [
    ({"human": {"embryo": "yes"}}, "/human/embryo"),  # text is not true
    ({"human": {"embryo": 1}}, "/human/embryo"),  # nor is 1
    ({"human": {"embryo": True, "embryo_culture_days": "7"}}, "/human/embryo_culture_days"),  # text is no number
    ({"human": {"embryo": True, "embryo_culture_days": 7.5}}, "/human/embryo_culture_days"),
    ({"gmo": {"containment_level": float("nan")}}, "/gmo/containment_level"),
])
def test_check_is_as_strict_as_the_api(capsys, tmp_path, doc, pointer):
    from fastapi.testclient import TestClient

    from biotoets.api.http.app import create_app
    from biotoets.api.settings import Settings

    text = yaml.safe_dump(doc) if doc.get("gmo") else json.dumps(doc)  # (NaN: YAML's .nan; JSON has none)
    code, _, err = run(capsys, "check", write(tmp_path, "p.yaml", text))
    assert code == 2 and "invalid field" in err and pointer in err, err
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", open_evaluations=True)
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/evaluations", content=text.encode(), headers={"Content-Type": "application/yaml"})
    assert r.status_code == 422 and pointer in {e["pointer"] for e in r.json()["errors"]}, r.text


def test_check_names_each_activity_and_what_came_from_it(capsys, tmp_path):
    f = write(tmp_path, "ivf.yaml", "activity: [medical_treatment, basic_research]\ntechnique: none\n"
              "human: {embryo: true, gametes: false, embryo_source: spare_ivf, pregnancy_intended: true}\n")
    code, out, _ = run(capsys, "check", f)
    assert code == 0
    assert "Activities (each checked on its own; the strictest outcome counts):" in out
    assert "  medical_treatment: ALLOWED" in out and "  basic_research: CONDITIONAL" in out
    assert "(germline.embryo-research)  (for basic_research)" in out
    assert "facts: activity=[medical_treatment, basic_research]" in out
    assert "not legal advice" in out
    code, out, _ = run(capsys, "check", f, "--lang", "nl")
    assert "Activiteiten (elk apart getoetst; de strengste uitkomst telt):" in out
    assert "(germline.embryo-research)  (voor basic_research)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("activity: []\n", "/activity: is an empty list: name at least one activity, or leave it out (unknown)"),
        ("activity: [market, market]\n", "/activity: names an activity more than once: market"),
        ("activity: [market, cooking]\n", "/activity: item 1 ('cooking') must be one of 'basic_research'"),
    ],
)
def test_check_a_bad_list_of_activities_names_the_field(capsys, tmp_path, content, message):
    code, out, err = run(capsys, "check", write(tmp_path, "bad.yaml", content))
    assert code == 2 and message in err and out == ""
