"""`synth run` end to end on the repo's example corpus (offline): nothing lost, resumable."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from synth.cli import main
from synth.files import read_jsonl
from synth.records import CuratedPair, ExcludedPair, JudgedPair, Pair, QuarantinedRecord, Segment
from synth.rundir import RunDir

REPO = Path(__file__).resolve().parents[1]


def _count_input_records() -> int:
    corpus = REPO / "examples" / "corpus"
    listed = sum(len(json.loads(p.read_text())["segments"]) if p.suffix == ".json" else 0
                 for p in corpus.glob("*.json"))
    lines = sum(1 for p in corpus.glob("*.jsonl") for line in p.read_text().splitlines() if line.strip())
    return listed + lines


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    run_dir = tmp_path_factory.mktemp("run") / "example"
    code = main(["run", str(REPO / "configs" / "example.yaml"), "--set", f"run_dir={run_dir}",
                 "--skip", "validate", "--set", "validate.litgpt_venv=/nonexistent"])
    assert code == 0
    return RunDir(run_dir)


def test_every_input_record_is_a_segment_or_quarantined(example_run: RunDir) -> None:
    segments = list(read_jsonl(example_run.segments, Segment))
    quarantined = list(read_jsonl(example_run.quarantine, QuarantinedRecord))
    assert len(segments) + len(quarantined) == _count_input_records()
    assert all(q.reason for q in quarantined)
    assert {s.style for s in segments} == {"therapeutic", "educational", "empathetic", "practical"}


def test_every_segment_has_pairs_and_every_pair_an_outcome(example_run: RunDir) -> None:
    segments = {s.segment_id for s in read_jsonl(example_run.segments, Segment)}
    pairs = list(read_jsonl(example_run.pairs, Pair))
    assert {p.segment_id for p in pairs} == segments
    assert all(p.generator == "offline" and p.prompt_hash for p in pairs)
    judged = list(read_jsonl(example_run.path("judged.jsonl"), JudgedPair))
    assert len(judged) == len({p.pair_id for p in pairs})
    curated = [*read_jsonl(example_run.path("curated", "train.jsonl"), CuratedPair),
               *read_jsonl(example_run.path("curated", "val.jsonl"), CuratedPair)]
    excluded = list(read_jsonl(example_run.path("curated", "excluded.jsonl"), ExcludedPair))
    assert len(curated) + len(excluded) == len(judged)
    assert all(e.reason for e in excluded)


def test_the_run_writes_datasets_router_and_report(example_run: RunDir) -> None:
    export = example_run.path("export")
    for expert in ("therapeutic", "educational", "empathetic", "practical"):
        for fmt in ("trl", "litgpt", "messages"):
            assert (export / expert / fmt / "train.jsonl").exists()
    assert (export / "manifest.json").exists() and (export / "serve.sh").exists()
    assert json.loads(example_run.path("router", "metrics.json").read_text())["val_count"] > 0
    index = example_run.path("reports", "index.html").read_text()
    assert "audit.html" in index and "distribution.html" in index
    saved = (example_run.root / "config.yaml").read_text()
    assert "run_dir:" in saved and "generator:" in saved


def test_a_second_run_resumes_without_new_work(example_run: RunDir) -> None:
    pairs_before = example_run.pairs.read_text()
    with sqlite3.connect(example_run.calls_db) as db:
        calls_before = db.execute("select count(*) from calls").fetchone()[0]
    code = main(["run", str(REPO / "configs" / "example.yaml"), "--set", f"run_dir={example_run.root}",
                 "--until", "judge"])
    assert code == 0
    assert example_run.pairs.read_text() == pairs_before
    with sqlite3.connect(example_run.calls_db) as db:
        assert db.execute("select count(*) from calls").fetchone()[0] == calls_before


def test_unknown_stage_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["run", str(REPO / "configs" / "example.yaml"), "--until", "nope"]) == 2
