"""The real-model tier (issue 17): synth against SmolLM2-135M-Instruct served by llama.cpp on this CPU.

`scripts/test.sh` (what CI runs) builds llama-server and fetches the model first
(`scripts/local_model.sh build && scripts/local_model.sh model`); here each module starts its own
server on a free port (`-t 1 -np 4`) behind a proxy that adds up the usage the server reports.
Without the binary or the model the tier fails, unless SYNTH_SKIP_REAL_MODEL=1 allows a skip.

Where the model decides, ranges (>= 75% of segments with pairs); where synth decides, exact
figures: the ledger and the call log equal the server's own usage, every segment ends with pairs
or a named failure, no degenerate real-model verdict is stored as `ok`.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from real_model_harness import (
    ALIAS,
    LlamaServer,
    Usage,
    UsageProxy,
    example_run,
    judged_run,
    missing_parts,
    run_figures,
)

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def proxy() -> Iterator[UsageProxy]:
    missing = missing_parts()
    if missing:
        message = ("llama-server or the model is missing (" + ", ".join(missing) + "): run "
                   "scripts/local_model.sh build && scripts/local_model.sh model")
        if os.environ.get("SYNTH_SKIP_REAL_MODEL") == "1":
            pytest.skip(message)
        pytest.fail(message + " (or set SYNTH_SKIP_REAL_MODEL=1 to skip this tier)")
    # -t 1 on a shared machine; scripts/test.sh gives the server every core (SYNTH_LLAMA_THREADS):
    # while the tier runs, the suite waits on it
    threads = int(os.environ.get("SYNTH_LLAMA_THREADS", "1"))
    with LlamaServer(threads=threads, slots=4) as server, UsageProxy(server.url) as usage_proxy:
        yield usage_proxy


@pytest.fixture(scope="module")
def example(proxy: UsageProxy, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Usage, dict[str, Any], dict[str, Any]]:
    run_dir = tmp_path_factory.mktemp("real") / "example"
    usage, run, compare = example_run(proxy, run_dir, revisions=False)  # the bench measures revisions
    return run_dir, usage, run, compare


@pytest.fixture(scope="module")
def judged(proxy: UsageProxy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Usage]:
    return judged_run(proxy, tmp_path_factory.mktemp("real_judge"))


def test_real_generator_gives_most_segments_pairs_and_loses_none(example) -> None:
    run_dir, usage, _run, _compare = example
    fig = run_figures(run_dir)
    assert fig["segments"] == 24
    assert fig["segments_with_pairs"] >= 0.75 * fig["segments"], fig  # the model decides: a range
    # synth decides: every segment has pairs or a named failure
    assert fig["segments_with_pairs"] + fig["segments_failed"] == fig["segments"], fig
    assert usage.responses > 0 and fig["calllog_errors"] == 0, fig


def test_ledger_and_call_log_equal_the_servers_usage(example, judged) -> None:
    for run_dir, usage in ((example[0], example[1]), judged):
        fig = run_figures(run_dir)
        assert fig["ledger_open"] == 0, fig
        assert fig["calllog_answers"] == usage.responses, (fig, usage)
        assert fig["calllog_tokens"] == usage.tokens, (fig, usage)
        assert fig["ledger_tokens"] == usage.tokens, (fig, usage)


def test_curate_export_and_compare_account_for_every_pair(example) -> None:
    run_dir, _usage, run, compare = example
    judged = [json.loads(line) for line in (run_dir / "judged.jsonl").read_text().splitlines() if line]
    assert all(j["judgment"]["judge_model"].startswith("offline") for j in judged if j.get("judgment"))
    curated = sum(len((run_dir / "curated" / f"{name}.jsonl").read_text().splitlines())
                  for name in ("train", "val", "excluded"))
    assert curated == len(judged)
    assert (run_dir / "export" / "manifest.json").is_file()
    assert [s["name"] for s in run["stages"]][-1] == "export"
    (generation,) = compare["generations"]
    assert generation["model"] == ALIAS and generation["pairs"] == len(judged)


def test_real_judge_stores_no_degenerate_verdict_as_ok(judged) -> None:
    run_dir, usage = judged
    fig = run_figures(run_dir)
    assert fig["real_verdicts"] >= 1, fig
    assert fig["degenerate_ok"] == [], fig
    assert usage.responses == fig["calllog_answers"]
