"""Benchmark: audit a synthetic corpus of 100,000 segments; print time and peak memory.

    .venv/bin/python bench/bench_audit.py [--segments 100000] [--out bench/out/audit]
                                          [--off-topic corpus|word_list]

The corpus (made here, seeded) mixes both exporter shapes (JSON object with a segments list
and 0-1 confidence; JSONL with 0-100 confidence, some as strings, and "HH:MM:SS - HH:MM:SS"
timestamps) and plants ~1% duplicates, overlapping windows, artifacts, entities and PII.
The audit (ingest + report) runs in a child process so its peak RSS is measured alone; the
PII process pool's workers (synth.ingest.piibulk) are counted apart. Set SYNTH_CACHE_DIR to an
empty folder for a cold run: the machine's redaction store otherwise answers a rerun, and
the vector store the off-topic encoding. --off-topic corpus (the default config) encodes every
segment with all-MiniLM-L6-v2; word_list measures the audit without the encoder.
Target: <= 60 s and <= 2 GB on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STYLES = ["therapeutic", "educational", "empathetic", "practical"]
VOCAB = str.split("feel feeling shame guilt healing trauma parent child boundary anxiety body nervous system "
         "safe support notice gentle pattern grief relationship partner friend worth critic voice "
         "breathe calm pause learn grow old young family trust hope fear anger rest need care "
         "the a and to of you your it that is in so when this was not with but because can")
QUIRKS = ["[Music] um", "I I I", "&amp;", "email me at someone.example@example.com", "uh"]


def sentence(rng: random.Random) -> str:
    words = rng.choices(VOCAB, k=rng.randint(8, 18))
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # no accidental stutters
    return " ".join(words).capitalize() + "."


def text(rng: random.Random) -> str:
    body = " ".join(sentence(rng) for _ in range(rng.randint(6, 16)))
    if rng.random() < 0.02:
        body = f"{rng.choice(QUIRKS)} {body}"
    return body


def make_corpus(directory: Path, total: int, files: int = 10, seed: int = 0) -> None:
    rng = random.Random(seed)
    per_file = total // files
    for index in range(files):
        records = []
        for n in range(per_file):
            body = text(rng)
            if records and rng.random() < 0.01:  # exact duplicate or overlapping window
                previous = records[-1]["text"]
                body = previous if rng.random() < 0.5 else previous[len(previous) // 5:] + " " + sentence(rng)
            records.append({"text": body, "style": rng.choice(STYLES), "n": n,
                            "confidence": round(rng.uniform(0.4, 1.0), 3), "video": f"v{index}-{n // 8}"})
        (_write_object if index % 2 == 0 else _write_jsonl)(directory / f"part{index:02d}", records, index)


def _write_object(stem: Path, records: list[dict], index: int) -> None:
    segments = [{"segment_id": f"s{index}-{r['n']}", "text": r["text"], "confidence": r["confidence"],
                 "video": {"video_id": r["video"], "title": f"Talk {r['video']}"},
                 "start": r["n"] * 60, "end": r["n"] * 60 + 55} for r in records]
    with stem.with_suffix(".json").open("w", encoding="utf-8") as fh:
        json.dump({"style": records[0]["style"], "segments": segments}, fh)


def _write_jsonl(stem: Path, records: list[dict], index: int) -> None:
    with stem.with_suffix(".jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            clock = r["n"] * 60
            confidence = r["confidence"] * 100
            fh.write(json.dumps({
                "id": f"c{index}-{r['n']}", "segment_text": r["text"], "communication_style": r["style"].title(),
                "confidence_score": f"{confidence:.1f}" if r["n"] % 3 == 0 else round(confidence, 1),
                "source_title": f"Talk {r['video']}",
                "timestamp": f"{_clock(clock)} - {_clock(clock + 55)}"}) + "\n")


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def audit_child(corpus: Path, out: Path, off_topic: str) -> None:
    """Runs in the child: ingest + report, prints its own timings as JSON."""
    sys.path.insert(0, str(ROOT))
    from synth.config import IngestConfig, OffTopicConfig
    from synth.experts import load_experts
    from synth.ingest.audit import write_audit
    from synth.ingest.stage import ingest_paths

    start = time.perf_counter()
    experts = load_experts(ROOT / "configs" / "experts.yaml")
    cfg = IngestConfig(off_topic=OffTopicConfig(method=off_topic))
    result = ingest_paths([str(corpus)], experts, ingest_cfg=cfg)
    ingested = time.perf_counter()
    summary = write_audit(result, out, experts=experts)
    done = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    pool = resource.getrusage(resource.RUSAGE_CHILDREN)  # the PII process pool's workers
    print(json.dumps({"ingest_s": ingested - start, "report_s": done - ingested, "records": summary["records"],
                      "cpu_s": usage.ru_utime + usage.ru_stime, "pool_cpu_s": pool.ru_utime + pool.ru_stime,
                      "pool_rss_mb": pool.ru_maxrss / 1024,
                      "pii": next((n for n in result.notes if n.startswith("PII:")), ""),
                      "usable": summary["usable"], "quarantined": summary["quarantined"], "peak_rss_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "audit")
    parser.add_argument("--off-topic", choices=["corpus", "word_list"], default="corpus",
                        help="ingest.off_topic.method: corpus (the default config: every segment through the "
                             "sentence encoder) or word_list (no encoder)")
    parser.add_argument("--child", nargs=2, metavar=("CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        audit_child(Path(args.child[0]), Path(args.child[1]), args.off_topic)
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        made = time.perf_counter()
        make_corpus(corpus, args.segments)
        size_mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
        print(f"corpus: {args.segments:,} segments, {size_mb:.0f} MB, made in {time.perf_counter() - made:.1f} s; "
              f"off-topic by {args.off_topic}")
        start = time.perf_counter()
        child = subprocess.run([sys.executable, __file__, "--off-topic", args.off_topic, "--child", str(corpus),
                                str(args.out)],
                               capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"audit failed:\n{child.stderr}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"audit wall time: {wall:.1f} s (ingest {figures['ingest_s']:.1f} s, report {figures['report_s']:.1f} s, "
          f"rest is interpreter start and imports)")
    print(f"audit CPU time (user+sys, imports included): {figures['cpu_s']:.1f} s; load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall > CPU means other work shared the cores)")
    print(f"PII process pool: {figures['pool_cpu_s']:.1f} CPU-s more, largest worker {figures['pool_rss_mb']:.0f} MB; "
          f"{figures['pii']}")
    print(f"peak memory (child max RSS): {figures['peak_rss_mb']:.0f} MB")
    print(f"segments per CPU-s (audit and pool): {figures['records'] / (figures['cpu_s'] + figures['pool_cpu_s']):.1f}")
    print(f"records {figures['records']:,}, usable {figures['usable']:,}, quarantined {figures['quarantined']}")
    print(f"target: <= 60 s and <= 2048 MB -> {'OK' if wall <= 60 and figures['peak_rss_mb'] <= 2048 else 'MISSED'}")


if __name__ == "__main__":
    main()
