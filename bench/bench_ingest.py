"""Benchmark: `synth ingest` on segments made by recombining the shared sample corpus's sentences.

    .venv/bin/python bench/bench_ingest.py [--segments 8000] [--corpus ../shared/data/segments]
                                           [--profile OUT.prof]

The corpus (made here in a temp dir, seeded, never committed) keeps each style's own sentences:
segment i of style s is 8-16 sentences drawn from that style's sample segments. Every flag is
on (the default ingest config: PII, language ID, duplicates, off-topic by the corpus score).
Each configuration runs in a child process (`synth ingest`, CLI start included) with its own
fresh SYNTH_CACHE_DIR copy of the exported encoders, so the vector store starts empty ("cold");
then the same command again on the same cache ("rerun": the store holds every vector).
Prints wall, CPU (the PII pool's workers included), peak RSS (the largest process so far),
segments/s, texts encoded and texts PII-redacted (not from the redaction store), side by
side per configuration; on paper, segments per CPU-second (one core's rate, CLI start included,
so small corpora understate it) and the cores a cluster needs for 1M segments in an hour at it.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_corpus(source: Path, folder: Path, n: int, seed: int = 11) -> None:
    """n segments in one JSON export per style, each a reshuffle of that style's sentences."""
    rng = random.Random(seed)
    by_style: dict[str, list[str]] = {}
    for path in sorted(source.glob("*.json")):
        data = json.loads(path.read_text())
        style = data["style"] if isinstance(data, dict) else path.stem.split("_")[0]
        sentences = by_style.setdefault(style, [])
        for segment in data["segments"] if isinstance(data, dict) else data:
            text = str(segment.get("text") or segment.get("segment_text") or "")
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4)
    styles = sorted(by_style)
    folder.mkdir(parents=True, exist_ok=True)
    for style in styles:
        segments = []
        for i in range(n // len(styles)):
            text = " ".join(rng.sample(by_style[style], rng.randint(8, 16)))
            segments.append({"segment_id": f"{style[:3]}-{i:06d}", "text": text, "confidence": 0.9,
                             "video": {"title": f"{style} talk {i // 12}", "id": f"{style}{i // 12}"},
                             "start": 10 * i, "end": 10 * i + 90})
        (folder / f"{style}.json").write_text(json.dumps({"style": style, "segments": segments}))


def run_ingest(corpus: Path, work: Path, cache: Path, sets: list[str], profile: str | None) -> dict[str, float]:
    config = work / "bench.yaml"
    config.write_text(f"run_dir: {work / 'run'}\ninputs: ['{corpus}/*.json']\n"
                      f"experts: {ROOT / 'configs/experts.yaml'}\n")
    env = {**os.environ, "SYNTH_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    synth = str(Path(sys.executable).parent / "synth")
    command = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), synth, "ingest", str(config)]
    for item in sets:
        command += ["--set", item]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"ingest failed ({done.returncode}):\n{done.stderr[-3000:]}")
    encoded = re.search(r"encoder: (\d+) texts encoded", done.stderr)
    audit = " ".join(p.read_text(encoding="utf-8") for p in (work / "run").rglob("audit.md"))
    redacted = re.search(r"PII: (\d+) distinct texts redacted now", audit)
    return {"wall": wall, "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "rss_mb": after.ru_maxrss / 1024, "encoded": int(encoded.group(1)) if encoded else 0,
            "redacted": int(redacted.group(1)) if redacted else -1}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=8000)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/data/segments")
    parser.add_argument("--config", action="append", default=None,
                        help="NAME=--set items separated by ';' (repeatable); default: every flag, and every flag "
                             "with off-topic by the word list (no encoder)")
    parser.add_argument("--profile", help="cProfile stats of the first cold run to this file")
    args = parser.parse_args()
    from synth.text.encoder import cache_dir

    configs = dict(c.split("=", 1) for c in args.config) if args.config else {
        "every flag (default config)": "",
        "every flag, off-topic by word list": "ingest.off_topic.method=word_list"}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(args.corpus, corpus, args.segments)
        print(f"{args.segments} segments, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
        print(f"{'configuration':34} {'run':6} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'seg/s':>7} {'encoded':>8} "
              f"{'redacted':>8} {'seg/CPU-s':>9} {'cores for 1M/h':>14}")
        for name, items in configs.items():
            cache = Path(tmp) / f"cache-{len(name)}"
            shutil.copytree(cache_dir() / "encoders", cache / "encoders")  # the exports, not the vectors
            sets = [s for s in items.split(";") if s]
            for run, profile in (("cold", args.profile), ("rerun", None)):
                work = Path(tmp) / f"work-{run}-{len(name)}"
                work.mkdir()
                m = run_ingest(corpus, work, cache, sets, profile)
                args.profile = None
                print(f"{name:34} {run:6} {m['wall']:7.1f} {m['cpu']:7.1f} {m['rss_mb']:8.0f} "
                      f"{args.segments / m['wall']:7.0f} {m['encoded']:8d} {m['redacted']:8d} "
                      f"{args.segments / m['cpu']:9.1f} "
                      f"{1_000_000 / 3600 / (args.segments / m['cpu']):14.0f}", flush=True)


if __name__ == "__main__":
    main()
