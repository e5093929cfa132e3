"""synth generate / synth status from the command line, including kill -9 and resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from generate_fixture import TEXTS, gen_config_file, make_segments, segment_of

from synth.cli import main
from synth.files import read_jsonl, write_jsonl
from synth.records import Pair

KEY = "sk-test-cli-secret-777777"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", KEY)


def _with_segments(tmp_path, n: int, url: str | None = None, **sets):
    run_dir = tmp_path / "run"
    config = gen_config_file(run_dir, url, **sets)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "segments.jsonl", make_segments(n))
    return config, run_dir


def test_generate_then_status_json(tmp_path, capsys):
    config, run_dir = _with_segments(tmp_path, 6)
    assert main(["generate", str(config), "--no-progress"]) == 0
    capsys.readouterr()
    for target in (run_dir, config):  # a run dir or its config
        assert main(["status", str(target), "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert {"segments", "pairs", "failed", "spend_usd", "calls"} <= status.keys()
        assert status["segments"] == 6 and status["pairs"] == 18 and status["failed"] == 0
        assert status["calls"] == 0 and status["spend_usd"] == 0


def test_status_says_a_store_is_unreadable_instead_of_zero(tmp_path, capsys):
    config, run_dir = _with_segments(tmp_path, 3)
    assert main(["generate", str(config), "--no-progress"]) == 0
    import sqlite3
    with sqlite3.connect(run_dir / "spend.sqlite") as db:
        db.execute("DROP TABLE totals")
    capsys.readouterr()
    assert main(["status", str(run_dir), "--json"]) == 3
    captured = capsys.readouterr()
    status = json.loads(captured.out)
    assert "spend.sqlite" in captured.err and "no such table" in captured.err
    assert status["spend_usd"] is None and status["open_reserved_usd"] is None
    assert "no such table" in status["unreadable_stores"]["spend.sqlite"]
    assert status["pairs"] == 9  # the readable parts are still counted


def test_budget_stop_exits_5_and_dry_run_sends_nothing(tmp_path, fake_llm, capsys):
    prices = {"generator.price_in_per_mtok": 3.0, "generator.price_out_per_mtok": 15.0}
    config, _ = _with_segments(tmp_path, 20, fake_llm.url, **prices, **{"budget.max_usd": 0.03})
    assert main(["generate", str(config), "--dry-run", "--json"]) == 0
    estimate = json.loads(capsys.readouterr().out)["estimate"]
    assert estimate["segments"] == 20 and estimate["worst_case_usd"] > 0.03 and fake_llm.count == 0
    assert main(["generate", str(config), "--no-progress"]) == 5
    err = capsys.readouterr().err
    assert "budget cap" in err and "segment(s) left" in err
    assert fake_llm.spend(3.0, 15.0) <= 0.03


def test_generate_runs_ingest_first_when_segments_are_missing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, (style, text) in enumerate(TEXTS.items()):
        records = [{"segment_id": f"{style}-{i}", "text": f"{text} Variation number {i} of this idea.",
                    "confidence": 0.9, "video": {"title": f"Talk {n}-{i}", "video_id": f"v{n}{i}"}}
                   for i in range(2)]
        (corpus / f"{style}.json").write_text(json.dumps({"style": style, "segments": records}))
    config = gen_config_file(tmp_path / "run", inputs=[str(corpus / "*.json")])
    assert main(["generate", str(config), "--no-progress"]) == 0
    assert (tmp_path / "run" / "segments.jsonl").exists()
    assert list(read_jsonl(tmp_path / "run" / "pairs.jsonl", Pair))


def _run_cli(config, env) -> subprocess.Popen:
    code = "import sys; from synth.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, "generate", str(config), "--no-progress"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _saved(run_dir) -> set[int]:
    return {int(p.segment_id.split("-")[1]) for p in read_jsonl(run_dir / "pairs.jsonl", Pair)}


def test_kill_9_then_resume_never_reanswers_saved_work(tmp_path, fake_llm):
    fake_llm.latency_s = 0.1
    config, run_dir = _with_segments(tmp_path, 40, fake_llm.url, **{"generator.concurrency": 2})
    env = {**os.environ, "SYNTH_TEST_KEY": KEY}
    proc = _run_cli(config, env)
    deadline = time.time() + 60
    while len(_saved(run_dir) if (run_dir / "pairs.jsonl").exists() else ()) < 4:
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    saved_before = _saved(run_dir)
    assert 4 <= len(saved_before) < 40
    first_run = len(fake_llm.requests)
    resumed = _run_cli(config, env)
    assert resumed.wait(120) == 0, resumed.stderr.read() if resumed.stderr else ""
    pairs = list(read_jsonl(run_dir / "pairs.jsonl", Pair))
    per_segment = Counter(p.segment_id for p in pairs)
    assert len(per_segment) == 40 and set(per_segment.values()) == {3}
    second = [segment_of(b) for b in fake_llm.requests[first_run:]]
    assert not set(second) & saved_before
    asked = Counter(segment_of(b) for b in fake_llm.requests)
    assert all(asked[i] == 1 for i in saved_before)


def test_every_segment_failing_is_exit_1_with_failures_recorded(tmp_path, fake_llm, capsys):
    from fake_llm_server import Fault

    fake_llm.every(1, Fault("malformed"))  # every answer is not JSON: a content failure
    config, run_dir = _with_segments(tmp_path, 4, fake_llm.url, **{"generator.max_retries": 0})
    assert main(["generate", str(config), "--no-progress"]) == 1
    assert "every one of 4 attempted segment(s) failed" in capsys.readouterr().err
    failures = [json.loads(line) for line in (run_dir / "failures.jsonl").read_text().splitlines()]
    assert len(failures) == 4 and all(f["reason"] for f in failures)
