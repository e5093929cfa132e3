"""CLI start-up: wall time of `synth --help` and `synth status RUN_DIR` (median of N runs in fresh
processes) and what `python -X importtime -c "import synth.cli"` says the import costs, with the
slowest modules. Goal (issue 9): `synth --help` under 0.5 s on a 2-core machine.

    .venv/bin/python bench/bench_cli_startup.py [--runs 7] [--run-dir runs/example]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SYNTH = Path(sys.executable).with_name("synth")


def wall(cmd: list[str], runs: int) -> float:
    """Median wall seconds of a command in fresh processes (first run discarded: disk cache)."""
    subprocess.run(cmd, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_profile(module: str) -> tuple[float, list[tuple[float, str]]]:
    """Total seconds of importing `module` and the slowest top-level imports (cumulative)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        rows.append((int(cumulative) / 1e6, name))
    total = next(c for c, n in reversed(rows) if n == module)
    top = sorted(((c, n) for c, n in rows if not n.startswith(" ") and n.count(" ") == 0), reverse=True)
    return total, top[:8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--run-dir", default="runs/example")
    args = parser.parse_args()
    total, top = import_profile("synth.cli")
    print(f"import synth.cli (python -X importtime): {total:.3f} s")
    for seconds, name in top:
        print(f"  {seconds:7.3f} s  {name}")
    print(f"synth --help: {wall([str(SYNTH), '--help'], args.runs):.3f} s (median of {args.runs})")
    if Path(args.run_dir).is_dir():
        status = wall([str(SYNTH), "status", args.run_dir, "--json"], args.runs)
        print(f"synth status {args.run_dir}: {status:.3f} s (median of {args.runs})")


if __name__ == "__main__":
    main()
