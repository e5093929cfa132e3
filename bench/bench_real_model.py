"""Measured on a real model: synth against SmolLM2-135M-Instruct served by llama.cpp on this CPU.

Starts llama-server through scripts/local_model.sh (build it first: `scripts/local_model.sh build`
and `model`, ~15 min once per machine), behind a proxy that adds up the usage the server reports
in each response, and runs what the real-model tier (tests/real_model/) runs:
  1. configs/local-llamacpp.yaml on the example corpus (24 segments, 2 questions each): real
     generator, offline judge, curate, export, compare;
  2. two of its segments with the real model as judge as well (4 pairs, one re-ask each).
Then prints the README's "measured on a real model" table, every figure read from what synth
recorded (segments.jsonl, pairs.jsonl, failures.jsonl, calls.sqlite, spend.sqlite, judged.jsonl)
except the server's token count, which the proxy adds up from the server's own answers.

    .venv/bin/python bench/bench_real_model.py [--threads 1] [--slots 4] [--keep DIR]
    .venv/bin/python bench/bench_real_model.py --from-runs EXAMPLE_DIR JUDGED_DIR   # no server
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "real_model"))

from real_model_harness import (  # noqa: E402
    JUDGED_SEGMENTS,
    LlamaServer,
    UsageProxy,
    example_run,
    judged_run,
    run_figures,
)


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"


def table(ex: dict, ju: dict, ex_server: int | None, ju_server: int | None,
          seconds: dict[str, float] | None) -> str:
    def server(tokens: int | None) -> str:
        return f"{tokens:,}" if tokens is not None else "not counted here (the tier asserts it equal)"

    rows = [
        ("segments with pairs (example corpus, 2 questions each)",
         share(ex["segments_with_pairs"], ex["segments"])
         + f"; {ex['segments_failed']} failed with a named reason"),
        ("first-try validity (generator answers valid on the first ask)",
         share(ex["first_try_valid"], ex["generate_items"])),
        ("re-ask fix rate (invalid first answers that a re-ask fixed)",
         share(ex["reask_fixed"], ex["first_try_invalid"])),
        ("ledger vs server tokens, example run (spend.sqlite / calls.sqlite / server usage)",
         f"{ex['ledger_tokens']:,} / {ex['calllog_tokens']:,} / {server(ex_server)}"),
        (f"ledger vs server tokens, real-judge run ({JUDGED_SEGMENTS} segments)",
         f"{ju['ledger_tokens']:,} / {ju['calllog_tokens']:,} / {server(ju_server)}"),
        ("judge truncations (real judge answers cut at max_tokens)",
         share(ju["judge_truncated"], ju["judge_answers"])),
        ("revise truncations (example run's revisions, cut at max_tokens)",
         share(ex["revise_truncated"], ex["revise_answers"])),
        ("real-judge verdicts stored ok / degenerate ones among them",
         f"{ju['real_verdicts_ok']} of {ju['real_verdicts']} / {len(ju['degenerate_ok'])}"),
    ]
    if seconds:
        rows.append(("wall time: server start / example run / real-judge run",
                     f"{seconds['start']:.1f} s / {seconds['example']:.1f} s / {seconds['judged']:.1f} s"))
    lines = ["| measured on a real model | figure |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="llama-server -t (1 on a shared 2-core box)")
    parser.add_argument("--slots", type=int, default=4, help="llama-server -np (parallel requests)")
    parser.add_argument("--keep", type=Path, help="write the run dirs here (default: a temp dir)")
    parser.add_argument("--from-runs", nargs=2, type=Path, metavar=("EXAMPLE_DIR", "JUDGED_DIR"),
                        help="print the table from two run dirs made before (the tier's, or --keep's), "
                             "with no server: its token count is then the one the tier asserted equal")
    args = parser.parse_args()
    if args.from_runs:
        ex, ju = (run_figures(path) for path in args.from_runs)
        print(json.dumps({"example": ex, "judged": ju}, indent=1))
        print(table(ex, ju, None, None, None))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_real_model_"))
    work.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with LlamaServer(threads=args.threads, slots=args.slots) as server, UsageProxy(server.url) as proxy:
        seconds["start"] = time.perf_counter() - started
        mark = time.perf_counter()
        ex_usage, _run, _compare = example_run(proxy, work / "example")
        seconds["example"] = time.perf_counter() - mark
        mark = time.perf_counter()
        judged_dir, ju_usage = judged_run(proxy, work / "judged")
        seconds["judged"] = time.perf_counter() - mark
    ex, ju = run_figures(work / "example"), run_figures(judged_dir)
    print(f"llama-server -t {args.threads} -np {args.slots}; run dirs in {work}")
    print(json.dumps({"example": ex, "judged": ju, "server_finish_reasons":
                      {"example": ex_usage.finish_reasons, "judged": ju_usage.finish_reasons}}, indent=1))
    print(table(ex, ju, ex_usage.tokens, ju_usage.tokens, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
