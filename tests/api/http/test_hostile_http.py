"""Hostile input to the proposal endpoints: every kind of junk gets a clear 4xx problem (or a verdict), never a 500.

test_robustness.py throws random JSON values, bytes, query strings and Authorization headers; this file goes
after the edges on purpose: nesting far past any limit, strings and arrays around and over the size limits,
NaN and infinities (as JSON text and as YAML), Unicode that is not text, duplicate keys, YAML anchors and a
billion-laughs document, bodies over the limit with and without Content-Length, junk review bodies and request
ids. Every response is also checked against the OpenAPI document (the ``api`` fixture does that).
Each input tried is counted in the figures printed at the end of the run (tests/figures.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.figures import tally

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, problem

PROFILE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
JUNK = "junk inputs (HTTP)"
VERDICTS = ("allowed", "conditional", "prohibited")


def post(api: Api, key: str, body: bytes, content_type: str = "application/json", path: str = "/v1/checks",
         **headers: str) -> Any:
    tally(JUNK)
    return api.client.post(path, content=body, headers={"Authorization": f"Bearer {key}",
                                                        "Content-Type": content_type, **headers})


def refused_or_answered(r: Any, allowed: tuple[int, ...] = (400, 413, 415, 422)) -> dict[str, Any] | None:
    """A problem document with one of ``allowed``, or a verdict / stored check; never a 5xx."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.status_code in (200, 201):
        body = r.json()
        verdict = body["verdict"] if r.status_code == 201 else body
        assert verdict["verdict"] in VERDICTS
        return body
    assert r.status_code in allowed, (r.status_code, r.text[:300])
    problem(r, r.status_code)
    return None


def as_yaml_flow(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()  # JSON is YAML (flow style)


# -- nesting -------------------------------------------------------------------------------------------------
@PROFILE
@given(depth=st.one_of(st.integers(2, 64), st.integers(900, 1100), st.sampled_from([5_000, 50_000])),
       opener=st.sampled_from(["[", '{"a":']), where=st.sampled_from(["top", "human", "partners", "unknown"]),
       yaml=st.booleans())
def test_deep_nesting_is_refused_not_recursed_into(api: Api, applicant_key: str, depth: int, opener: str,
                                                   where: str, yaml: bool) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    body = {"top": nested, "human": f'{{"human": {nested}}}', "partners": f'{{"partners": [{nested}]}}',
            "unknown": f'{{"activity": "production", "extra": {nested}}}'}[where]
    r = post(api, applicant_key, body.encode(), "application/yaml" if yaml else "application/json")
    assert refused_or_answered(r) is None


# -- sizes ---------------------------------------------------------------------------------------------------
@PROFILE
@given(size=st.sampled_from([501, 5_000, 120_000, 990_000, 1_000_001, 1_500_000]),
       field=st.sampled_from(["title", "partner name", "unknown key", "start_date"]),
       char=st.sampled_from(["a", "é", "\U0001f9ec", "\u200b"]))
def test_huge_strings_get_422_or_413(api: Api, applicant_key: str, size: int, field: str, char: str) -> None:
    text = char * size
    doc: dict[str, Any] = dict(PLAIN)
    if field == "partner name":
        doc["partners"] = [{"name": text, "country": "NL"}]
    elif field == "unknown key":
        doc[text[:50_000]] = True
    else:
        doc[field] = text
    body = json.dumps(doc, ensure_ascii=False).encode()
    r = post(api, applicant_key, body)
    assert refused_or_answered(r) is None
    assert r.status_code == (413 if len(body) > api.settings.max_body_bytes else 422)


@PROFILE
@given(n=st.sampled_from([301, 1_000, 30_000, 80_000]), what=st.sampled_from(["partners", "dual_use_items",
                                                                              "destination_countries"]))
def test_huge_arrays_get_422_or_413(api: Api, applicant_key: str, n: int, what: str) -> None:
    doc: dict[str, Any] = dict(PLAIN)
    if what == "partners":
        doc["partners"] = [{"country": "NL"}] * n
    else:
        doc["export"] = {what: ["1C351" if what == "dual_use_items" else "NL"] * n}
    body = json.dumps(doc).encode()
    r = post(api, applicant_key, body)
    assert refused_or_answered(r) is None
    assert r.status_code == (413 if len(body) > api.settings.max_body_bytes else 422)


# -- numbers that are not numbers ------------------------------------------------------------------------------
# JSON text: NaN and infinities are not JSON (400); numbers that are not whole are refused for whole-number fields.
JSON_NUMBERS = ["NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "1e-05", "1E+16",
                "123456789012345678901234567890", "0.0", "7.0", "07", "+7", ".5", "0x10", "1_000", "-0"]
# YAML: .nan and .inf are floats to a YAML reader; they must not become null (unknown) on the way in.
YAML_NOT_FINITE = [".nan", ".NaN", ".NAN", ".inf", ".Inf", "-.inf", "+.inf", "-.INF"]
YAML_OTHER = ["1e400", "0o17", "7.0", "1.5", "1e-05", str(2**64), str(-(2**63) - 1), "9" * 400]


@PROFILE
@given(token=st.sampled_from(JSON_NUMBERS), field=st.sampled_from(["embryo_culture_days", "containment_level",
                                                                   "title"]))
def test_nan_infinity_and_odd_numbers_in_json(api: Api, applicant_key: str, token: str, field: str) -> None:
    template = {"embryo_culture_days": '{"activity": "basic_research", "human": {"embryo": true, '
                                       '"embryo_culture_days": NUMBER}}',
                "containment_level": '{"activity": "basic_research", "gmo": {"use": "contained", '
                                     '"containment_level": NUMBER}}',
                "title": '{"activity": "production", "title": NUMBER}'}[field]
    body = template.replace("NUMBER", token)
    r = post(api, applicant_key, body.encode())
    refused_or_answered(r)
    if not (token == "-0" and field != "title"):  # -0 is the whole number 0
        assert r.status_code in (400, 422), (token, field, r.status_code)


@PROFILE
@given(token=st.sampled_from(YAML_NOT_FINITE + YAML_OTHER),
       field=st.sampled_from(["embryo_culture_days", "containment_level", "title"]))
def test_nan_infinity_and_odd_numbers_in_yaml(api: Api, applicant_key: str, token: str, field: str) -> None:
    if field == "embryo_culture_days":
        body = f"activity: basic_research\nhuman:\n  embryo: true\n  embryo_culture_days: {token}\n"
    elif field == "containment_level":
        body = f"activity: basic_research\ngmo:\n  use: contained\n  containment_level: {token}\n"
    else:
        body = f"activity: production\ntitle: {token}\n"
    r = post(api, applicant_key, body.encode(), "application/yaml")
    refused_or_answered(r)
    if token in YAML_NOT_FINITE:
        assert r.status_code == 422, (token, field, r.status_code, r.text[:200])
        assert {e["detail"] for e in r.json()["errors"]} == {"must be a finite number"}
    elif token.lstrip("-").isdigit():  # found by schemathesis: integers past 64 bits were a 500
        assert r.status_code == 422, (token, field, r.status_code, r.text[:200])
    elif field != "title":  # (to YAML 1.1, "1e-05" without a dot is text: a fine title, not a whole number)
        assert r.status_code == 422, (token, field, r.status_code, r.text[:200])


# -- text that is not text ------------------------------------------------------------------------------------
TRICKY_TEXT = ["\u0000", "a\u0000b", "\ufeff", "\u202e\u0644\u0627", "\u200b\u200d", "\uffff", "\U0010ffff",
               "e\u0301" * 50, "\U0001f9ec\U0001f469\u200d\U0001f52c", "\x7f\x1b[31m", "\r\n\t", "%s%n%x",
               "'; DROP TABLE checks; --", "<script>alert(1)</script>", "\\", "\u2028\u2029", "Ω" * 500]
BAD_ESCAPES = ["\\ud800", "\\udfff", "\\ud800\\u0041", "\\udc00\\ud800", "\\uZZZZ", "\\x41", "\\u00"]
BAD_BYTES = [b"\xc0\x80", b"\xed\xa0\x80", b"\xff", b"\xfe\xff", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]


@PROFILE
@given(text=st.one_of(st.sampled_from(TRICKY_TEXT), st.text(max_size=40)),
       field=st.sampled_from(["title", "partner name", "institution_type", "start_date", "key"]))
def test_unicode_edge_cases_are_stored_as_sent_or_refused(api: Api, applicant_key: str, text: str,
                                                          field: str) -> None:
    doc: dict[str, Any] = dict(GERMLINE)
    if field == "partner name":
        doc["partners"] = [{"name": text, "country": "NL"}]
    elif field == "institution_type":
        doc["partners"] = [{"institution_type": text, "country": "US"}]
    elif field == "key":
        doc[text] = True
    else:
        doc[field] = text
    r = post(api, applicant_key, json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    stored = refused_or_answered(r)
    if stored is not None:  # what was stored is what was sent, byte for byte
        again = api.client.get(r.headers["location"], headers=api.headers(applicant_key))
        assert again.status_code == 200 and again.json()["proposal"] == stored["proposal"]
        assert stored["proposal"] == json.loads(json.dumps(doc, ensure_ascii=False))


@PROFILE
@given(escape=st.sampled_from(BAD_ESCAPES), raw=st.sampled_from(BAD_BYTES), yaml=st.booleans(),
       which=st.sampled_from(["escape", "bytes", "bom"]))
def test_lone_surrogates_and_invalid_utf8_get_400(api: Api, applicant_key: str, escape: str, raw: bytes,
                                                  yaml: bool, which: str) -> None:
    if which == "escape":
        body = b'{"activity": "production", "title": "' + escape.encode() + b'"}'
    elif which == "bytes":
        body = b'{"activity": "production", "title": "x' + raw + b'"}'
    else:
        body = "\ufeff".encode() + b'{"activity": "production"}'
    r = post(api, applicant_key, body, "application/yaml" if yaml else "application/json")
    refused_or_answered(r)
    if which != "bom" or not yaml:  # (a YAML reader may skip a byte order mark, as the YAML spec allows)
        if not (yaml and which == "escape" and escape == "\\x41"):  # "\x41" is a valid YAML escape: "A"
            assert r.status_code in (400, 422), (which, escape, raw, r.status_code, r.text[:200])


# -- duplicate keys, YAML anchors ------------------------------------------------------------------------------
@PROFILE
@given(key=st.sampled_from(["activity", "pregnancy_intended", "title", "country", "x", "é", "\\u0061"]),
       nested=st.booleans(), yaml=st.booleans(), spaces=st.sampled_from(["", " ", "\n  "]))
def test_duplicate_keys_are_refused(api: Api, applicant_key: str, key: str, nested: bool, yaml: bool,
                                    spaces: str) -> None:
    pair = f'"{key}"{spaces}:{spaces}true'
    inner = "{" + pair + "," + pair.replace("true", "false") + "}"
    body = ('{"activity": "basic_research", "human": ' + inner + "}") if nested else inner
    r = post(api, applicant_key, body.encode(), "application/yaml" if yaml else "application/json")
    detail = problem(r, 400)["detail"]
    if not (yaml and "\n" in spaces):  # (YAML does not allow a line break before ':' in a flow mapping)
        assert "twice" in detail or "duplicate" in detail, detail


def test_keys_that_look_alike_are_not_duplicates(api: Api, applicant_key: str) -> None:
    # The same key in two objects, and a string value containing '":', are fine.
    body = b'{"title": "a\\": b", "partners": [{"country": "NL"}, {"country": "DE"}], "activity": "production"}'
    r = post(api, applicant_key, body)
    assert r.status_code == 201, r.text


LAUGHS = "\n".join(["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
                   + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)])


def _in_time(call: Any) -> Any:
    """Run ``call`` in a thread; a hang fails the test instead of the whole run."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(call()), daemon=True)
    worker.start()
    worker.join(120)
    assert out, "the server did not answer: it hangs on this input"
    return out[0]


@pytest.mark.parametrize("body", [
    LAUGHS,
    "activity: &x basic_research\npurpose: *x\n",
    "human: &h {embryo: true}\nanimal: *h\n",
    "<<: {activity: production}\n",
    "a: &a [*a]\n",
    "!!python/object/apply:os.system ['true']\n",
    "activity: !!binary aGVsbG8=\n",
    "--- {activity: production}\n--- {activity: research}\n",
    "? [a, b]\n: c\n",
])
def test_yaml_anchors_aliases_tags_and_billion_laughs_get_400(api: Api, applicant_key: str, body: str) -> None:
    r = _in_time(lambda: post(api, applicant_key, body.encode(), "application/yaml"))
    assert r.status_code in (400, 422), (r.status_code, r.text[:300])
    problem(r, r.status_code)


# -- bodies over the limit ---------------------------------------------------------------------------------------
def _chunks(total: int, size: int = 65_536) -> Iterator[bytes]:
    yield b'{"title": "'
    sent = 11
    while sent < total:
        n = min(size, total - sent)
        yield b"a" * n
        sent += n
    yield b'"}'


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
def test_bodies_over_the_limit_get_413(api: Api, applicant_key: str, chunked: bool, content_type: str) -> None:
    limit = api.settings.max_body_bytes
    tally(JUNK)
    headers = {"Authorization": f"Bearer {applicant_key}", "Content-Type": content_type}
    if chunked:  # no Content-Length: the server must stop reading at the limit
        r = api.client.post("/v1/checks", content=_chunks(limit * 3), headers=headers)
    else:
        r = api.client.post("/v1/checks", content=b"".join(_chunks(limit + 1)), headers=headers)
    body = problem(r, 413)
    assert body["max_bytes"] in (limit, 200_000)


def test_a_yaml_body_over_its_own_limit_gets_413(api: Api, applicant_key: str) -> None:
    r = post(api, applicant_key, b"title: " + b"a" * 250_000 + b"\n", "application/yaml")
    assert problem(r, 413)["max_bytes"] == 200_000


# -- the other bodies and headers ------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)
review_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"decision": st.one_of(st.sampled_from(["start_review", "confirm", "override",
                                                                  "request_information", "x"]), json_values)},
                          optional={"verdict": json_values, "reason": json_values, "questions": json_values,
                                    "extra": json_values}),
)


@pytest.fixture(scope="module")
def junk_check(api: Api, applicant_key: str) -> str:
    r = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key))
    assert r.status_code == 201
    return str(r.json()["id"])


@PROFILE
@given(doc=review_bodies)
def test_junk_review_bodies_get_a_4xx_or_a_recorded_step(api: Api, assessor_key: str, junk_check: str,
                                                         doc: Any) -> None:
    tally(JUNK)
    r = api.client.post(f"/v1/checks/{junk_check}/reviews", json=doc, headers=api.headers(assessor_key))
    assert r.status_code in (201, 400, 409, 422), (r.status_code, r.text[:300])
    if r.status_code != 201:
        problem(r, r.status_code)


@PROFILE
@given(answers=json_values, message=json_values)
def test_junk_answers_get_a_4xx(api: Api, applicant_key: str, junk_check: str, answers: Any, message: Any) -> None:
    tally(JUNK)
    r = api.client.post(f"/v1/checks/{junk_check}/answers", json={"answers": answers, "message": message},
                        headers=api.headers(applicant_key))
    assert r.status_code in (200, 400, 409, 422), (r.status_code, r.text[:300])
    if r.status_code != 200:
        problem(r, r.status_code)


LATIN1 = st.characters(max_codepoint=255, exclude_characters="\r\n\x00")


@PROFILE
@given(request_id=st.one_of(st.text(LATIN1, max_size=100), st.from_regex(r"[A-Za-z0-9._:-]{1,70}", fullmatch=True)),
       accept_language=st.text(LATIN1, max_size=100))
def test_junk_request_ids_and_languages_are_never_echoed_raw(api: Api, applicant_key: str, request_id: str,
                                                             accept_language: str) -> None:
    tally(JUNK)
    encoded = {"X-Request-ID": request_id.encode("latin-1"), "Accept-Language": accept_language.encode("latin-1")}
    r = api.client.post("/v1/evaluations", json=PLAIN, headers={**api.headers(applicant_key), **encoded})
    assert r.status_code == 200, r.text[:300]
    echoed = r.headers["x-request-id"]
    assert 1 <= len(echoed) <= 64 and all(c.isalnum() or c in "._:-" for c in echoed)
    assert echoed == request_id or not (request_id and len(request_id) <= 64 and request_id.isascii()
                                        and all(c.isalnum() or c in "._:-" for c in request_id))
    assert r.headers["content-language"] in ("en", "nl")


def test_nul_characters_in_any_text_get_a_4xx_on_every_database(api: Api, applicant_key: str,
                                                                 assessor_key: str) -> None:
    # PostgreSQL cannot store U+0000 in text: the proposal is refused up front with a pointer; review and answer
    # texts, wherever a database refuses them, get a 422 problem (never a 500).
    tally(JUNK, 4)
    r = api.client.post("/v1/checks", json={**PLAIN, "title": "a\u0000b"}, headers=api.headers(applicant_key))
    assert problem(r, 422)["errors"] == [{"pointer": "/title", "detail": "must not contain the character U+0000 "
                                                                         "(NUL)"}]
    r = api.client.post("/v1/evaluations", json={**PLAIN, "partners": [{"name": "\u0000", "country": "NL"}]},
                        headers=api.headers(applicant_key))
    assert problem(r, 422)["errors"][0]["pointer"] == "/partners/0/name"
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()["id"]
    r = api.client.post(f"/v1/checks/{check}/reviews", json={"decision": "override", "verdict": "allowed",
                                                             "reason": "a\u0000b"}, headers=api.headers(assessor_key))
    assert r.status_code in (201, 422), r.text[:300]
    if r.status_code == 422:
        problem(r, 422)
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()["id"]
    r = api.client.post(f"/v1/checks/{check}/reviews", json={"decision": "request_information", "reason": "why?"},
                        headers=api.headers(assessor_key))
    assert r.status_code == 201, r.text[:300]
    r = api.client.post(f"/v1/checks/{check}/answers", json={"answers": {"human.pregnancy_intended": False},
                                                             "message": "m\u0000"}, headers=api.headers(applicant_key))
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 422:
        problem(r, 422)
