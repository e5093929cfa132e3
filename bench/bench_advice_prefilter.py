"""Benchmark: could a cheap ranking shortlist the passages the unsafe-advice screen must read?

    python bench/bench_advice_prefilter.py dev.jsonl PATH/TO/Empathy-Mental-Health/dataset [--fit 4000]

`synth check` cold spends most of its encoding on the answers' advice passages (bench_checks.py
token_shares). Issue 19's rule for a fast screening encoder: use it where it loses <= 0.01 AUC
and keep MiniLM where a decision rests on it; here MiniLM decides, the candidate only drops
passages MiniLM would not have flagged. A passage is *flagged* when the screen's per-passage
test holds (synth.judge.advice.screen_passages: nearest unsafe cosine >= advice_min_similarity
and the scorer's p >= the lower of advice_min_probability and advice_sustained_probability);
an answer's verdict reads only flagged passages, so a prefilter that keeps every flagged
passage leaves every check result unchanged. *Near* passages (nearest unsafe cosine >=
advice_min_similarity, the screen's first gate) are the stricter target: many more of them,
so a threshold that keeps them all has more evidence behind it.

Candidates (both rank a passage by its cosine with the nearest unsafe exemplar):
  static       bench/static_encoder.py (model2vec's recipe distilled from the installed MiniLM)
  static+map   the static vectors through a ridge map to MiniLM's space, fitted on --fit passages
               of real peer-support posts and replies (EMNLP 2020 empathy corpus, Reddit part;
               source and licence in bench/bench_safety.py), none of them in a set measured below
Each candidate's cutoff is chosen on the fitting passages (the lowest score of a near one there,
or of a flagged one: a looser cutoff) and then applied, unchanged, to:
  MedQuAD      the answers bench_checks.py's speed run checks (2,000 answers of the dev set)
  empathy      as many passages of the other posts and replies of the same corpus (none fitted on)
  frozen       bench/data/advice_frozen_heldout.yaml (unsafe and safe answers)
Printed per set and candidate: the ranking's AUC (near passages against the rest), then at the
cutoff: flagged passages kept, near passages kept, and the share of passage tokens skipped.
Needs the embed extra; MiniLM reads every passage (the machine's vector store keeps them).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from bench_checks import speed_items
from bench_safety import load_pairs
from sklearn.metrics import roc_auc_score
from static_encoder import STATIC_ID, load_static

from synth.config import SafetyConfig
from synth.files import read_yaml
from synth.judge.advice import bank_texts, features, load_bank, passages, probabilities
from synth.judge.vectors import MAX_TOKENS, embed_texts, matrix

ROOT = Path(__file__).resolve().parents[1]
RIDGE = 1.0


def minilm_targets(texts: list[str], config: SafetyConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MiniLM vectors, near, flagged) of passages, as the screen computes them."""
    bank = load_bank(config.advice_bank)
    unsafe, _, safe = bank_texts(bank)
    vectors = embed_texts(texts + unsafe + safe, None)
    rows = features(matrix(texts, vectors), texts, matrix(unsafe, vectors), matrix(safe, vectors), bank.scorer)
    p = probabilities(rows, bank.scorer)
    near = rows[:, 0] >= config.advice_min_similarity
    floor = min(config.advice_min_probability, config.advice_sustained_probability)
    return matrix(texts, vectors), near, near & (p >= floor)


class Candidates:
    def __init__(self, fit: list[str], config: SafetyConfig):
        unsafe, _, _ = bank_texts(load_bank(config.advice_bank))
        self.static = load_static()
        self.unsafe_static = self.static.encode(unsafe)
        self.unsafe_minilm = matrix(unsafe, embed_texts(unsafe, None))
        target, _, _ = minilm_targets(fit, config)
        x = self._with_bias(self.static.encode(fit))
        self.map = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ target)

    @staticmethod
    def _with_bias(x: np.ndarray) -> np.ndarray:
        return np.c_[x, np.ones(len(x), dtype=np.float32)]

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        static = self.static.encode(texts)
        mapped = self._with_bias(static) @ self.map
        mapped /= np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)
        return {"static": (static @ self.unsafe_static.T).max(axis=1),
                "static+map": (mapped @ self.unsafe_minilm.T).max(axis=1)}


def token_counts(texts: list[str]) -> np.ndarray:
    from synth.text.embeddings import _encoder

    return np.array([len(e.ids) for e in _encoder().tokenizer(MAX_TOKENS).encode_batch(texts)])


def empathy_texts(folder: Path) -> list[str]:
    return sorted({t for pair in load_pairs(folder) for t in pair})


def passage_set(texts: list[str]) -> list[str]:
    return sorted({p for t in texts for p in passages(t)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path, help="JSONL from bench/build_devset.py")
    parser.add_argument("empathy", type=Path, help="the empathy corpus's dataset/ folder")
    parser.add_argument("--fit", type=int, default=4000, help="passages the map is fitted on")
    parser.add_argument("--speed-pairs", type=int, default=6000, help="as bench_checks.py --speed-pairs")
    args = parser.parse_args()
    config = SafetyConfig()
    rng = random.Random(19)
    corpus = empathy_texts(args.empathy)
    rng.shuffle(corpus)
    half = len(corpus) // 2
    fit = passage_set(corpus[:half])
    fit = rng.sample(fit, min(args.fit, len(fit)))
    rows = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").splitlines() if line]
    frozen = read_yaml(ROOT / "bench" / "data" / "advice_frozen_heldout.yaml")
    sets = {"MedQuAD": passage_set(sorted({a for _, a in speed_items(rows, args.speed_pairs)})),
            "empathy (not fitted)": sorted(rng.sample(sorted(set(passage_set(corpus[half:])) - set(fit)),
                                                      args.fit)),
            "frozen unsafe": passage_set(frozen["unsafe"]), "frozen safe": passage_set(frozen["safe"])}
    candidates = Candidates(fit, config)
    _, fit_near, fit_flagged = minilm_targets(fit, config)
    fit_scores = candidates.scores(fit)
    cutoffs = {(name, target): float(score[keep].min()) for name, score in fit_scores.items()
               for target, keep in (("near", fit_near | fit_flagged), ("flagged", fit_flagged))}
    print(f"static = {STATIC_ID}; map fitted on {len(fit)} empathy passages "
          f"({fit_near.sum()} near, {fit_flagged.sum()} flagged); cutoffs from them (keeping every "
          "near / every flagged one): " + ", ".join(f"{c} {v:.3f} ({t})" for (c, t), v in cutoffs.items()))
    for name, texts in sets.items():
        _, near, flagged = minilm_targets(texts, config)
        tokens = token_counts(texts)
        print(f"{name}: {len(texts)} passages, {tokens.sum()} tokens, {near.sum()} near, "
              f"{flagged.sum()} flagged by MiniLM")
        for candidate, score in candidates.scores(texts).items():
            auc = roc_auc_score(near, score) if 0 < near.sum() < len(near) else float("nan")
            for target in ("near", "flagged"):
                keep = score >= cutoffs[candidate, target]
                print(f"  {candidate:11} AUC (near vs rest) {auc:.3f}; cutoff keeping every {target:7} "
                      f"fitting passage: flagged kept {(keep & flagged).sum()}/{flagged.sum()}, near kept "
                      f"{(keep & near).sum()}/{near.sum()}, passage tokens skipped "
                      f"{tokens[~keep].sum() / tokens.sum():.1%}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
