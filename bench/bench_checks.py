"""Benchmark: the automated checks (`synth check`) for quality on a dev set, and for speed.

  python bench/build_devset.py PATH/TO/MedQuAD dev.jsonl      # once (see its docstring)
  python bench/bench_checks.py dev.jsonl [--cache vectors.npz] [--speed-pairs 6000]

Quality: every row of the dev set (true pairs and their mismatches) goes through run_checks
as one file, as `synth check` does. Prints, per mismatch kind, the AUC of the plain
all-MiniLM-L6-v2 cosine (the baseline) and of the alignment score (true pairs against that
kind), the share of mismatches passing at the threshold that keeps 95% of true pairs, and
the verdict: true pairs kept / mismatches passed with every check; also true pairs failed
by formatting ("not a question") and by the safety screen.

Speed: the whole check stack, cold (empty stores), then twice again on the same pairs as a new
process would (nothing memoised): the old path (every vector from the machine's store,
synth/text/vectors.py, every answer screened again) and the new (each answer's screen from the
machine's screen store too, synth/judge/screens.py), on --speed-pairs pairs made from the dev
set's texts: 2,000 answers x 3 questions drawn from 800 questions (about 2,800 distinct texts,
the shape of a real counselling set); prints pairs/s, and whether all three runs gave the same
check results. Needs the embed extra.

Where the cold time goes: the encoder (cProfile of run_checks: 95% of the cold run's time is
spent waiting on the encoding threads). `token_shares` prints what is encoded: tokens of the
answers (read to 128), the questions and the answers' advice sentences. Nothing is encoded
twice: each distinct text once, and a short sentence is joined to the next before encoding,
never encoded both alone and joined.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import content_words, run_checks
from synth.judge.degenerate import answer_index
from synth.judge.safety import SafetyPolicy, answer_side
from synth.text import embeddings

KINDS = ("same_type", "same_topic", "other_topic")


class NpzCache:
    """A vector cache in one .npz file (for re-running the quality part quickly)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path) as data:
                self.vectors = {k: data[k] for k in data.files}

    def get_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return {k: self.vectors[k] for k in keys if k in self.vectors}

    def put_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors.update(vectors)
        if self.path is not None:
            np.savez(self.path, **self.vectors)


def quality(rows: list[dict], cache: NpzCache) -> None:
    policy = SafetyPolicy.from_config(SafetyConfig())
    start = time.perf_counter()
    checks = run_checks([(r["question"], r["answer"]) for r in rows], ChecksConfig(), policy, cache)
    print(f"checked {len(rows)} rows in {time.perf_counter() - start:.1f} s")
    kinds = np.array([r["kind"] for r in rows])
    aligned = [c.get("alignment") for c in checks]
    scores = {"cosine (baseline)": np.array([a.details["cosine"] for a in aligned]),
              "alignment": np.array([a.score for a in aligned])}
    true = kinds == "true"
    for name, score in scores.items():
        threshold = np.quantile(score[true], 0.05)
        parts = []
        for kind in KINDS:
            neg = kinds == kind
            auc = roc_auc_score(np.r_[np.ones(true.sum()), np.zeros(neg.sum())],
                                np.r_[score[true], score[neg]])
            parts.append(f"{kind}: AUC {auc:.3f}, {np.mean(score[neg] >= threshold):.1%} pass at 95%")
        print(f"{name:18} " + " | ".join(parts))
    passed = np.array([all(r.passed for r in c.results) for c in checks])
    print(f"verdict: true pairs kept {passed[true].mean():.1%} | "
          + " | ".join(f"{k} passed {passed[kinds == k].mean():.1%}" for k in KINDS))
    for name in ("alignment", "lexical_overlap", "safety_screen", "formatting"):
        failed = np.mean([not c.get(name).passed for c, t in zip(checks, true) if t])
        print(f"  true pairs failing {name}: {failed:.1%}")


def token_shares(items: list[tuple[str, str]]) -> None:
    """Tokens the cold run encodes (128 at most per text), by kind of text."""
    from synth.judge.advice import passages
    from synth.judge.vectors import MAX_TOKENS
    from synth.text.embeddings import _encoder

    tokenizer = _encoder().tokenizer(MAX_TOKENS)
    answers = sorted({a for _, a in items})
    kinds = {"answers": answers, "questions": sorted({q for q, _ in items}),
             "advice sentences": sorted({p for a in answers for p in passages(a)} - set(answers))}
    tokens = {k: sum(len(e.ids) for e in tokenizer.encode_batch(texts)) for k, texts in kinds.items()}
    total = sum(tokens.values())
    print("tokens encoded cold: " + ", ".join(f"{k} {len(kinds[k])} texts, {n} tokens ({n / total:.0%})"
                                              for k, n in tokens.items()), flush=True)


def speed_items(rows: list[dict], pairs: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    answers = sorted({r["answer"] for r in rows})
    questions = sorted({r["question"] for r in rows})
    answers = rng.sample(answers, min(len(answers), pairs // 3))
    questions = rng.sample(questions, min(len(questions), 800))
    return [(rng.choice(questions), a) for a in answers for _ in range(3)][:pairs]


def speed(rows: list[dict], pairs: int, advice: bool = True) -> None:
    items = speed_items(rows, pairs)
    distinct = len({t for item in items for t in item})
    policy = SafetyPolicy.from_config(SafetyConfig(unsafe_advice=advice))
    label = "speed" if advice else "speed (no unsafe-advice screen)"
    if advice:
        token_shares(items)
    runs = (("cold", "256"),  # empty stores
            ("rerun, old path (vectors from the store, every answer screened again)", "0"),
            ("rerun, vectors and answer screens from the machine's stores", "256"))
    with tempfile.TemporaryDirectory() as tmp:  # fresh stores: cold, then the same file again
        os.environ["SYNTH_VECTOR_STORE"] = str(Path(tmp) / "vectors.sqlite")
        os.environ["SYNTH_SCREEN_STORE"] = str(Path(tmp) / "screens.sqlite")
        os.environ["SYNTH_SCREEN_STORE_MB"] = "0"
        run_checks(items[:2], ChecksConfig(), policy)  # load the model outside the timing
        results = []
        for run, screen_mb in runs:
            os.environ["SYNTH_SCREEN_STORE_MB"] = screen_mb
            answer_side.cache_clear()  # each run as a new process would: nothing memoised
            content_words.cache_clear()
            answer_index.cache_clear()
            before = dict(embeddings.COUNTS)
            start, cpu = time.perf_counter(), time.process_time()
            results.append(run_checks(items, ChecksConfig(), policy))
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            load = os.getloadavg()[0]
            print(f"{label}: {len(items)} pairs, {distinct} distinct texts, {run}: {elapsed:.1f} s wall, "
                  f"{len(items) / elapsed:.1f} pairs/s; CPU {cpu:.1f} s (all threads), i.e. "
                  f"{len(items) / (cpu / 2):.1f} pairs/s if both cores were ours; load average {load:.1f}; "
                  f"{embeddings.encode_summary(before)}", flush=True)
        same = all([r.model_dump() for r in a.results] == [r.model_dump() for r in b.results]
                   and a.screen == b.screen for first in results[1:] for a, b in zip(results[0], first))
        print(f"{label}: every check result the same in all three runs: {same}")
    for name in ("SYNTH_VECTOR_STORE", "SYNTH_SCREEN_STORE", "SYNTH_SCREEN_STORE_MB"):
        os.environ.pop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path, help="JSONL from bench/build_devset.py")
    parser.add_argument("--cache", type=Path, help="vector cache (.npz) for the quality part")
    parser.add_argument("--speed-pairs", type=int, default=6000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--without-advice", action="store_true",
                        help="speed also without the unsafe-advice screen (its sentences are half the encoding)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").splitlines() if line]
    if not args.skip_quality:
        quality(rows, NpzCache(args.cache))
    if not args.skip_speed:
        speed(rows, args.speed_pairs)
        if args.without_advice:
            speed(rows, args.speed_pairs, advice=False)


if __name__ == "__main__":
    main()
