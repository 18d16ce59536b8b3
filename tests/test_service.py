"""`toxic-tagger serve`: a real server on 127.0.0.1 over the untrained export (marked slow: it
starts a server), its endpoints, its JSON 4xx errors and a small bounded load run."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import bodies_from, free_port, get, load_test, post, start_server  # noqa: E402

from toxic_tagger import LABELS, Tagger  # noqa: E402
from toxic_tagger.predict.service import Limits, parse_texts, RequestError  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(untrained_export):
    port = free_port()
    process = start_server(untrained_export, port, "--max-texts", "8", "--max-text-chars", "1000",
                           "--max-body-bytes", "20000")
    yield port
    process.terminate()
    process.wait(timeout=30)


def test_predict_returns_what_the_python_api_returns(server, untrained_export):
    texts = ["you are an idiot", "thanks for the fix"]
    status, body = post(server, json.dumps({"texts": texts}).encode())
    assert status == 200
    expected = Tagger.load(untrained_export).predict(texts)
    assert body["results"] == expected
    status, bare = post(server, json.dumps(texts).encode())  # a bare list works too
    assert status == 200 and bare == body


def test_health_and_metadata(server):
    assert get(server, "/health") == {"status": "ok"}
    meta = get(server, "/metadata")
    assert meta["labels"] == list(LABELS) and meta["limits"]["max_texts"] == 8
    assert meta["thresholds"] == pytest.approx(dict(zip(LABELS, np.linspace(0.3, 0.7, 6))))
    # what the export applies after the blend, and how it cuts long comments (Tagger.metadata)
    assert [entry["kind"] for entry in meta["calibration"]["tags"]] == ["none"] * 6
    assert meta["truncation"] == "head" and meta["head_tokens"] == 0


@pytest.mark.parametrize(("payload", "status", "fragment"), [
    (b"{not json", 400, "not valid JSON"),
    (b'{"texts": "one"}', 422, "expected"),
    (b'{"texts": []}', 422, "empty list"),
    (b'{"texts": ["ok", "  "]}', 422, "text 1: empty"),
    (b'{"texts": ["ok", 7]}', 422, "text 1: expected a string"),
    (json.dumps({"texts": ["x"] * 9}).encode(), 413, "at most 8 per request"),
    (json.dumps({"texts": ["x" * 1001]}).encode(), 413, "at most 1,000"),
    (json.dumps({"texts": ["x" * 900] * 8 * 4}).encode(), 413, "bytes"),
])
def test_bad_requests_get_json_errors_and_the_server_carries_on(server, payload, status, fragment):
    got, body = post(server, payload)
    assert got == status and fragment in body["error"]
    assert post(server, b'["still serving"]')[0] == 200


def test_concurrent_requests_share_model_calls_and_none_fails(server):
    before = get(server, "/metadata")["model_calls"]
    result = load_test(server, bodies_from(["a comment", "another one, longer than that"], 48, 2),
                       concurrency=16, max_seconds=120)
    assert result["requests"] == 48 and result["failures"] == 0
    calls = get(server, "/metadata")["model_calls"] - before
    assert calls < 48  # micro-batching joined concurrent requests


def test_parse_texts_limits_without_a_server():
    limits = Limits(max_texts=2)
    assert parse_texts(b'["a", "b"]', limits) == ["a", "b"]
    with pytest.raises(RequestError, match="at most 2"):
        parse_texts(b'["a", "b", "c"]', limits)
