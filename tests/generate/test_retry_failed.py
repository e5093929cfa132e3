"""Retrying failures is discoverable (issue 17 item 6): the generate summary, `synth status` and
`synth run` say how many segments failed for good and how to retry them; `synth run
--retry-failed` retries them as `synth generate --retry-failed` does."""
from __future__ import annotations

import json

import pytest
from fake_llm_server import Fault
from generate_fixture import gen_config_file, make_segments, segment_of

from synth.cli import main
from synth.files import write_jsonl
from synth.status import retry_hint

HINT = "1 segment failed for good (validation_failed 1); rerun with --retry-failed"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test-retry-hint")


def test_retry_hint_names_count_and_reasons() -> None:
    assert retry_hint({}) is None and retry_hint({"refusal": 0}) is None
    assert retry_hint({"validation_failed": 2, "refusal": 1}) == (
        "3 segments failed for good (refusal 1, validation_failed 2); rerun with --retry-failed")


def test_summary_status_and_run_say_how_to_retry(tmp_path, fake_llm, capsys) -> None:
    run_dir = tmp_path / "run"
    config = gen_config_file(run_dir, fake_llm.url, **{"generator.max_retries": 0})
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "segments.jsonl", make_segments(4))
    fake_llm.fault_fn = lambda i, body: Fault("schema_invalid") if segment_of(body) == 1 else None
    assert main(["generate", str(config), "--no-progress"]) == 0
    assert HINT in capsys.readouterr().out

    assert main(["status", str(run_dir), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["retry_failed"] == HINT
    assert status["generations"][0]["failed_for_good"] == {"validation_failed": 1}

    fake_llm.reset_stats()  # a plain rerun skips the failed segment and says so again
    assert main(["run", str(config), "--skip", "ingest", "--until", "generate"]) == 0
    assert HINT in capsys.readouterr().err.replace("\n  ", " ")
    assert fake_llm.requests == []

    fake_llm.fault_fn = None  # --retry-failed sends it again; nothing is left to retry
    assert main(["run", str(config), "--skip", "ingest", "--until", "generate", "--retry-failed"]) == 0
    assert [segment_of(b) for b in fake_llm.requests] == [1]
    assert "failed for good" not in capsys.readouterr().err
    assert main(["status", str(run_dir), "--json"]) == 0
    assert "retry_failed" not in json.loads(capsys.readouterr().out)
