"""Benchmark: `synth check` on real peer-support pairs, a shape synth does not make.

  python bench/bench_peer_support.py PATH/TO/Empathy-Mental-Health/dataset [--cache v.npz]

Data: the Reddit part of the EMNLP 2020 empathy corpus, 3,023 (post, reply) pairs; source,
licence and loader in bench/bench_safety.py. Not committed.

1. Every true pair goes through run_checks as one file with the default ChecksConfig and
   SafetyConfig, as `synth check` does: prints the share kept (every check passes) and the
   share failing each check.
2. Each post is also paired with the reply of a random other post (seeded), and true and
   mismatched rows go through run_checks together: prints the AUC of the alignment score and
   of the plain cosine, true pairs against those mismatches.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from bench_checks import NpzCache
from bench_safety import load_pairs
from sklearn.metrics import roc_auc_score

from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import run_checks
from synth.judge.safety import SafetyPolicy

CHECKS = ("alignment", "lexical_overlap", "formatting", "safety_screen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the corpus's dataset/ folder or one of its CSVs")
    parser.add_argument("--cache", type=Path, help="vector cache (.npz) for reruns")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pairs = load_pairs(args.data)
    policy = SafetyPolicy.from_config(SafetyConfig())
    cache = NpzCache(args.cache)
    start = time.perf_counter()
    checks = run_checks(pairs, ChecksConfig(), policy, cache)
    print(f"checked {len(pairs)} true pairs in {time.perf_counter() - start:.1f} s")
    kept = np.mean([all(r.passed for r in c.results) for c in checks])
    print(f"kept (every check passes): {kept:.1%}")
    for name in CHECKS:
        print(f"  failing {name}: {np.mean([not c.get(name).passed for c in checks]):.1%}")
    rng = random.Random(args.seed)
    others = [rng.choice([j for j in rng.sample(range(len(pairs)), 2) if j != i]) for i in range(len(pairs))]
    mismatched = [(post, pairs[j][1]) for (post, _), j in zip(pairs, others)]
    both = run_checks(pairs + mismatched, ChecksConfig(), policy, cache)
    aligned = [c.get("alignment") for c in both]
    labels = np.r_[np.ones(len(pairs)), np.zeros(len(mismatched))]
    for name, score in (("alignment", [a.score for a in aligned]),
                        ("cosine", [a.details["cosine"] for a in aligned])):
        print(f"AUC true vs a random other post's reply, {name}: {roc_auc_score(labels, score):.3f}")


if __name__ == "__main__":
    main()
