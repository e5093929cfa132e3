"""Benchmark: how often the safety screen flags real counselling pairs (issue 11 item 3).

  python bench/bench_safety.py PATH/TO/Empathy-Mental-Health/dataset [--cache v.npz]
                               [--sample 15] [--dump flagged.jsonl] [--seed 0]

Data: the Reddit part of the EMNLP 2020 empathy corpus (Sharma, Miner, Atkins & Althoff,
"A Computational Approach to Understanding Empathy Expressed in Text-Based Mental Health
Support"; github.com/behavioral-data/Empathy-Mental-Health, folder `dataset/`; University of
Washington licence: non-commercial academic research use with attribution, see the repository's
licence documents). Real support-seeking posts from mental-health subreddits, each with a real
peer reply. Not CounselChat, not ESConv, nothing built from them. Not committed.

Format: three CSV files with the same (post, reply) pairs annotated for three empathy
mechanisms, `emotional-reactions-reddit.csv`, `explorations-reddit.csv`,
`interpretations-reddit.csv`, columns sp_id, rp_id, seeker_post, response_post, level,
rationales. The loader reads every `*-reddit.csv` in the folder (or one CSV given as the path)
and keeps each (sp_id, rp_id) once: 3,023 pairs, 2,979 distinct posts. The post is the
question, the reply the answer.

The pairs go through run_checks as one file with the default ChecksConfig and SafetyConfig, as
`synth check` does. Prints the share of pairs failing `safety_screen`, the count per exclusion
reason and per rule that fired, and a seeded sample of flagged pairs with the screen's reason;
--dump writes every flagged pair (post, reply, reason) as JSONL for reading by hand.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from bench_checks import NpzCache

from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import run_checks
from synth.judge.safety import SafetyPolicy


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(post, reply) pairs from the corpus folder or one of its CSV files, each pair once."""
    files = sorted(path.glob("*-reddit.csv")) if path.is_dir() else [path]
    if not files:
        sys.exit(f"{path}: no *-reddit.csv files")
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                post, reply = row["seeker_post"].strip(), row["response_post"].strip()
                if post and reply:
                    pairs.setdefault((row["sp_id"], row["rp_id"]), (post, reply))
    return list(pairs.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the corpus's dataset/ folder or one of its CSVs")
    parser.add_argument("--cache", type=Path, help="vector cache (.npz) for reruns")
    parser.add_argument("--sample", type=int, default=15, help="flagged pairs to print")
    parser.add_argument("--dump", type=Path, help="write every flagged pair here (JSONL)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    items = load_pairs(args.data)
    policy = SafetyPolicy.from_config(SafetyConfig())
    start = time.perf_counter()
    checks = run_checks(items, ChecksConfig(), policy, NpzCache(args.cache))
    print(f"checked {len(items)} pairs in {time.perf_counter() - start:.1f} s")
    flagged = [(item, c) for item, c in zip(items, checks) if not c.get("safety_screen").passed]
    print(f"failing safety_screen: {len(flagged)}/{len(items)} ({len(flagged) / len(items):.1%})")
    reasons = Counter(r for _, c in flagged for r in policy.screen_reasons(c.screen))
    rules = Counter(rule for _, c in flagged for rule in c.screen.rules())
    for title, counts in (("by reason", reasons), ("by rule", rules)):
        print(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    aside = Counter(c.screen.crisis_set_aside.split(":")[0] for c in checks if c.screen.crisis_set_aside)
    print("  crisis words read as not the asker's crisis: "
          + (", ".join(f"{k} {v}" for k, v in aside.most_common()) or "none"))
    kept = sum(1 for c in checks if c.screen.crisis_topic and c.get("safety_screen").passed)
    print(f"  own crisis pointing to help (kept): {kept}")
    for (question, answer), c in random.Random(args.seed).sample(flagged, min(args.sample, len(flagged))):
        print(f"\n- {c.get('safety_screen').reason[:300]}\n  Q: {question[:300]}\n  A: {answer[:300]}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for (question, answer), c in flagged:
                out.write(json.dumps({"question": question, "answer": answer,
                                      "reason": c.get("safety_screen").reason}) + "\n")


if __name__ == "__main__":
    main()
