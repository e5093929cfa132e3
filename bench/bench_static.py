"""Benchmark: the static screening encoder (bench/static_encoder.py) against MiniLM int8, side by side.

    .venv/bin/python bench/bench_static.py dev.jsonl [--per-kind 600]

On the MedQuAD dev set (bench/build_devset.py; a dev set: the static encoder's recipe was not
tuned on it, but the decision of where to use it is made on it), a seeded sample of true pairs
and of each mismatch kind: the AUC of question-answer cosine, true pairs against each kind, for
MiniLM int8 (read to 128 tokens, as the checks read) and for the static encoder; then texts/s
of each encoder on the sample's distinct texts, cold (a fresh vector store: nothing stored).
`other_topic` (another collection) is the off-topic ranking; `same_type` (another disease) the
finer one dedup and alignment need. The rule (issue 19): use the static encoder where it loses
<= 0.01 AUC.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("other_topic", "same_type", "same_topic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path)
    parser.add_argument("--per-kind", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNTH_VECTOR_STORE"] = str(Path(tmp) / "vectors.sqlite")  # cold: nothing stored
        run(args.dev, args.per_kind)


def run(dev: Path, per_kind: int) -> None:
    from static_encoder import STATIC_ID, load_static  # bench/static_encoder.py, beside this script

    from synth.text import embeddings

    rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(3)
    sample = {k: rng.sample([r for r in rows if r["kind"] == k], per_kind) for k in ("true", *KINDS)}
    texts = sorted({t for rs in sample.values() for r in rs for t in (r["question"], r["answer"])})
    static = load_static()
    embeddings.embed(texts[:2])  # load both encoders outside the timing
    timings, vectors = {}, {}
    for name, encode in (("MiniLM int8 @128 (old path)", lambda ts: embeddings.embed(ts, max_tokens=128)),
                         ("static", static.encode)):
        start = time.perf_counter()
        vectors[name] = dict(zip(texts, encode(texts)))
        timings[name] = time.perf_counter() - start
    print(f"{len(texts)} distinct texts, {per_kind} rows per kind, load average {os.getloadavg()[0]:.1f}; "
          f"static = {STATIC_ID}")
    print(f"{'encoder':28} " + " ".join(f"{'AUC ' + k:>16}" for k in KINDS) + f" {'texts/s':>9}")
    for name, table in vectors.items():
        def cosine(rs: list[dict], table: dict = table) -> np.ndarray:
            return np.array([float(table[r["question"]] @ table[r["answer"]]) for r in rs])
        true = cosine(sample["true"])
        aucs = [roc_auc_score(np.r_[np.ones(len(true)), np.zeros(per_kind)], np.r_[true, cosine(sample[k])])
                for k in KINDS]
        print(f"{name:28} " + " ".join(f"{a:16.3f}" for a in aucs) + f" {len(texts) / timings[name]:9.0f}")


if __name__ == "__main__":
    main()
