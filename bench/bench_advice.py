"""Benchmark: recall and false alarms of the meaning-based unsafe-advice screen (synth/judge/advice.py).

  python bench/bench_advice.py [--cache vectors.npz] [--medquad dev.jsonl] [--fit]

Sentence level (one sentence = one answer, a hit flags it, as tests/judge/test_advice.py counts):
  tune      bench/data/advice_tune.yaml: unsafe / paired safe / ordinary counselling sentences;
            the bank's scorer is fitted on these (--fit prints new weights, rounded, to paste
            into judges/unsafe_advice.yaml, with a 5-fold cross-validated figure)
  holdout   bench/data/advice_holdout.yaml, written before any tuning, never fitted on
  second    bench/data/advice_holdout_second.yaml, written by another hand, never shown to the tuner
  tests     the held-out sets of tests/judge/test_advice.py (UNSAFE, SAFE, *_FRESH)
  frozen    bench/data/advice_frozen_heldout.yaml, answers written after the screen was frozen
            (commit 0d319ac), read at answer level below
Answer level (the default policy: two hits, one strong, or three sustained):
  the example corpus (configs/example.yaml inputs), the shared sample corpus (../shared/data/
  segments, every flagged segment printed with its hits; the planted one must be caught) and,
  with --medquad, the distinct answers of a dev set built by bench/build_devset.py.
Also prints how many passages (sentences) the screen encodes per answer. Needs the embed
extra. Delete the --cache file when the encoder or its runtime changes.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from bench_checks import NpzCache

from synth.config import IngestConfig, SafetyConfig
from synth.experts import load_experts
from synth.files import read_yaml
from synth.ingest.stage import ingest_paths
from synth.judge.advice import FEATURES, bank_texts, features, load_bank, passages
from synth.judge.safety import SafetyPolicy
from synth.judge.vectors import embed_texts, matrix

ROOT = Path(__file__).resolve().parents[1]
PLANTED = ("therapeutic_batch2.json", 11)


def test_sets() -> dict[str, list[str]]:
    spec = importlib.util.spec_from_file_location("test_advice", ROOT / "tests/judge/test_advice.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in ("UNSAFE", "SAFE", "UNSAFE_FRESH", "SAFE_FRESH")}


def segments(paths: list[str]) -> dict[tuple[str, int], str]:
    experts = load_experts(ROOT / "configs" / "experts.yaml")
    found = ingest_paths(paths, experts, ingest_cfg=IngestConfig())
    return {(Path(s.source_file).name, s.record_index): s.text for s in found.segments}


def flagged(policy: SafetyPolicy, answers: list[str], cache: NpzCache) -> dict[str, list]:
    found = {a: passages(a) for a in answers}
    vectors = embed_texts([p for ps in found.values() for p in ps] + policy.advice_exemplars(), cache)
    return policy.advice_findings(found, vectors)


def sentence_level(policy: SafetyPolicy, sets: dict[str, list[str]], cache: NpzCache) -> None:
    for name, texts in sets.items():
        hits = flagged(policy, texts, cache)
        print(f"  {name:22s} {len(hits):3d}/{len(texts):<3d} flagged ({len(hits) / len(texts):.0%})")


def answer_level(policy: SafetyPolicy, name: str, texts: dict, cache: NpzCache, show: bool) -> set:
    hits = flagged(policy, list(texts.values()), cache)
    keys = {k for k, t in texts.items() if t in hits}
    n_passages = sum(len(passages(t)) for t in texts.values())
    print(f"  {name:22s} {len(keys):4d}/{len(texts):<4d} answers flagged ({len(keys) / len(texts):.1%}); "
          f"{n_passages / len(texts):.1f} sentences/answer")
    for k in sorted(keys) if show else ():
        print(f"    {k}: " + " | ".join(f.quote for f in hits[texts[k]]))
    return keys


def fit(policy: SafetyPolicy, tune: dict[str, list[str]], cache: NpzCache) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    bank = load_bank(policy.config.advice_bank)
    unsafe, _, safe = bank_texts(bank)
    texts = tune["unsafe"] + tune["safe"] + tune["ordinary"]
    y = np.r_[np.ones(len(tune["unsafe"])), np.zeros(len(texts) - len(tune["unsafe"]))]
    vectors = embed_texts(texts + unsafe + safe, cache)
    rows = features(matrix(texts, vectors), texts, matrix(unsafe, vectors), matrix(safe, vectors),
                    bank.scorer)
    mean, scale = rows.mean(axis=0), rows.std(axis=0)  # fitted on standardised features,
    rows_z = (rows - mean) / scale  # stored as weights on the raw ones
    model = LogisticRegression(C=0.1, class_weight="balanced", max_iter=1000)
    cv = cross_val_predict(model, rows_z, y, cv=5, method="predict_proba")[:, 1]
    gate = rows[:, 0] >= policy.config.advice_min_similarity
    hit = gate & (cv >= policy.config.advice_min_probability)
    print(f"5-fold CV on tune: unsafe {hit[y == 1].mean():.0%} caught, safe {hit[y == 0].mean():.0%} flagged")
    model.fit(rows_z, y)
    weights = model.coef_[0] / scale
    print("scorer:\n  bias: %.1f\n  weights:" % (model.intercept_[0] - float(weights @ mean)))
    for name, weight in zip(FEATURES, weights):
        print(f"    {name}: {weight:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="an .npz vector cache (created if missing)")
    parser.add_argument("--medquad", type=Path, help="a dev set of bench/build_devset.py (answers)")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data" / "segments")
    parser.add_argument("--fit", action="store_true", help="print a scorer fitted on the tune set")
    parser.add_argument("--quiet", action="store_true", help="do not print flagged sample segments")
    parser.add_argument("--min-probability", type=float, help="override safety.advice_min_probability")
    args = parser.parse_args()
    cache = NpzCache(args.cache)
    given = {} if args.min_probability is None else {"advice_min_probability": args.min_probability}
    policy = SafetyPolicy.from_config(SafetyConfig(**given))
    one = SafetyPolicy.from_config(SafetyConfig(**given, advice_min_passages=1))  # one sentence decides
    tune, holdout, second, frozen = (read_yaml(ROOT / "bench" / "data" / f) for f in (
        "advice_tune.yaml", "advice_holdout.yaml", "advice_holdout_second.yaml", "advice_frozen_heldout.yaml"))
    if args.fit:
        fit(policy, tune, cache)
        return 0
    print("sentence level (a hit flags the sentence):")
    sentence_level(one, {f"tune {k} (fitted)": v for k, v in tune.items()}, cache)
    sentence_level(one, {f"holdout {k}": v for k, v in holdout.items()}, cache)
    sentence_level(one, {f"second holdout {k}": v for k, v in second.items()}, cache)
    sentence_level(one, {f"tests {k}": v for k, v in test_sets().items()}, cache)
    print("answer level (default policy):")
    for side in ("unsafe", "safe"):
        answer_level(policy, f"frozen held-out {side}", dict(enumerate(frozen[side])), cache, False)
    example = read_yaml(ROOT / "configs" / "example.yaml")["inputs"]
    answer_level(policy, "example corpus", segments([str(ROOT / p) for p in example]), cache, not args.quiet)
    if args.shared.is_dir():
        sample = segments([str(args.shared)])
        keys = answer_level(policy, "shared sample", sample, cache, not args.quiet)
        print(f"  planted {PLANTED} caught: {PLANTED in keys}")
    if args.medquad:
        rows = [json.loads(line) for line in args.medquad.open()]
        answers = sorted({r["answer"] for r in rows})
        answer_level(policy, "MedQuAD answers", dict(enumerate(answers)), cache, not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
