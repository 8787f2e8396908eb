"""Hostile input to the command line: every junk document gets a clean error or a verdict -- never a traceback."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biotoets.api.cli import main
from tests.figures import tally

FIELDS = ["activity", "technique", "human", "animal", "gmo", "export", "partners", "title", "embryo", "risk",
          "pregnancy_intended", "\u0000", "\ud7ff", "ｈｕｍａｎ", "human ", ""]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e-05", "true", "yes", "0x10", "crispr", "release"]),
)
junk = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=30,
)


def _run(capsys, path: Path) -> tuple[int, str, str]:
    tally("junk inputs (CLI)")
    code = main(["check", str(path), "--json"])
    out, err = capsys.readouterr()
    return code, out, err


def _as_json(value) -> str:
    return json.dumps(value, allow_nan=True, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=junk, as_yaml=st.booleans())
def test_junk_documents_get_a_verdict_or_a_clean_error(capsys, tmp_path, doc, as_yaml):
    import yaml

    if as_yaml:
        text = yaml.safe_dump(doc, allow_unicode=True) if not _has_surrogate(doc) else _as_json(doc)
    else:
        text = _as_json(doc)
    path = tmp_path / "junk.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, out, err = _run(capsys, path)
    assert code in (0, 2), err
    if code == 0:
        verdict = json.loads(out)
        assert verdict["verdict"] in ("allowed", "conditional", "prohibited")
    else:
        assert err.startswith("biotoets: error:") and "Traceback" not in err


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def test_nan_infinity_and_exponent_floats_in_fact_fields(capsys, tmp_path):
    for bad in (math.nan, math.inf, -math.inf, 1e-05, 2.5):
        path = tmp_path / "p.json"
        path.write_text(_as_json({"human": {"embryo_culture_days": bad}}), encoding="utf-8")
        code, _, err = _run(capsys, path)
        assert code == 2 and "/human/embryo_culture_days" in err


def test_huge_string_and_array(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(_as_json({"title": "x" * 900_000}), encoding="utf-8")
    code, _, err = _run(capsys, path)
    assert code == 2 and "/title" in err
    path.write_text(_as_json({"partners": [{"country": "NL"}] * 5000}), encoding="utf-8")
    code, _, err = _run(capsys, path)
    assert code == 2 and "/partners" in err


def test_lone_surrogate_escape(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"title": "\\ud800"}', encoding="utf-8")
    code, _, err = _run(capsys, path)
    # libyaml refuses the escape while parsing, with the place
    assert code == 2 and "invalid Unicode character escape code" in err and "line 1, column 14" in err
    assert "Traceback" not in err


def test_deep_nesting_in_json(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"human": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    code, _, err = _run(capsys, path)
    assert code == 2 and ("nested" in err or "not valid YAML" in err)


def test_billion_laughs_does_not_hang_the_real_command(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    path = tmp_path / "lol.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    exe = Path(sys.executable).with_name("biotoets")
    tally("junk inputs (CLI)")
    proc = subprocess.run([str(exe), "check", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "anchors and aliases are not allowed" in proc.stderr and "Traceback" not in proc.stderr
