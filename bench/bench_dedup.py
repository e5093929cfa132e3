"""Benchmark: curation's near-dedup of 100,000 pairs (target: <= 60 s and <= 2 GB, 2 cores).

  python bench/bench_dedup.py [--pairs 100000]

Makes pairs the way generation does (3 questions per segment, answers log-normal around 250
words) and plants duplicates: 1% exact copies of a pair, 2% segments re-cut with one word
changed (near-duplicate answers, in another video), 1% near-identical questions for the same
segment. Runs synth.curate_dedup.deduplicate (exact keys, MinHash LSH over answers with the
overlap measure, over questions per segment and across segments) without the semantic pass
(embedding 100k texts on CPU is a different budget), prints time, peak RSS and what it found.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections import Counter

from synth.curate.dedup import DedupItem, deduplicate

WORDS = """you your feel feeling when what why how this that because often sometimes always never
body mind heart safe safety fear anger shame guilt grief loss love hope trust people parent mother
father child childhood family partner friend relationship work morning night sleep tired anxious
calm breath notice pattern habit learn healing heal hurt pain story memory past present future
moment small step try practice boundary say need want support help alone together understand brain
nervous system signal threat response stress pressure tension release rest slow gentle kind honest
quiet heavy light strong okay normal sense happens learned protect adapt survive younger older today
tomorrow week year time again first then next after before while can could would should might will
""".split()


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def make_pairs(count: int, seed: int = 0) -> tuple[list[DedupItem], Counter[str]]:
    rng = random.Random(seed)
    items: list[DedupItem] = []
    planted: Counter[str] = Counter()
    segment = 0
    originals = count - count // 100
    while len(items) < originals:
        answer = text(rng, int(min(600, max(40, rng.lognormvariate(5.4, 0.55)))))
        if items and rng.random() < 0.02 * 3:  # a re-cut of an earlier segment's answer
            words = rng.choice(items).answer.split()
            words[rng.randrange(len(words))] = "different"
            answer = " ".join(words)
            planted["near_answer_segments"] += 1
        for q in range(3):
            question = text(rng, rng.randint(8, 30)) + "?"
            if q == 2 and rng.random() < 0.03:  # near-identical to this segment's first question
                question = items[-2].question.replace("?", " again?")
                planted["near_question"] += 1
            items.append(DedupItem(f"p{len(items)}", f"s{segment}", question, answer, rng.random()))
        segment += 1
    items = items[:originals]
    for _ in range(count - originals):
        original = rng.choice(items)
        items.append(
            DedupItem(
                f"p{len(items)}", f"copy{len(items)}", original.question, original.answer, 0.0
            )
        )
        planted["exact"] += 1
    return items, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args()
    items, planted = make_pairs(args.pairs)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = deduplicate(items, args.threshold, 0.95, semantic=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = Counter(reason for reason, _ in result.dropped.values())
    print(f"pairs            {len(items):,} ({len({i.segment for i in items}):,} segments)")
    print(f"planted          {dict(planted)}")
    print(
        f"dropped          {dict(found)}; similarity links kept for the split: {len(result.links)}"
    )
    print(f"time             {seconds:.1f} s (target <= 60 s)")
    print(f"peak RSS         {peak:,.0f} MiB (inputs alone {before:,.0f} MiB; target <= 2048 MiB)")


if __name__ == "__main__":
    main()
