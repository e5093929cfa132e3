"""Benchmark: does the formatting check recognise real people's questions (is_question)?

  python bench/bench_questions.py --liveqa PATH/TREC-2017-LiveQA-Medical-Test.xml
  python bench/bench_questions.py --reddit PATH/TO/Empathy-Mental-Health/dataset

LiveQA: the TREC 2017 LiveQA medical test set (Ben Abacha et al.; github.com/abachaa/
LiveQA_MedicalTask_TREC2017, file TestDataset/TREC-2017-LiveQA-Medical-Test.xml): 104 consumer
health messages sent to the NLM, each question's <MESSAGE> as written. The question cues of
synth.judge.checks were written looking at this set: its figure is a dev figure.

Reddit: the seeker post of each of the 3,023 (post, reply) pairs of the Reddit part of the
EMNLP 2020 empathy corpus (see bench/bench_safety.py for the source, licence and loader), as
`synth check` reads them (a post answered twice counts twice).

Prints how many texts is_question recognises, how many of them carry no `?`, and a few that it
does not recognise. Nothing is committed; both sets are fetched from their repositories.
"""
from __future__ import annotations

import argparse
import random
import xml.etree.ElementTree as ET
from pathlib import Path

from bench_safety import load_pairs

from synth.judge.checks import is_question


def liveqa_messages(path: Path) -> list[str]:
    """The <MESSAGE> of every question of the LiveQA medical test XML."""
    root = ET.parse(path).getroot()
    return [(q.findtext("Original-Question/MESSAGE") or "").strip() for q in root.iter("NLM-QUESTION")]


def report(name: str, texts: list[str], shown: int = 5) -> None:
    recognised = [is_question(t) for t in texts]
    without_mark = sum(1 for t in texts if "?" not in t)
    hits = sum(recognised)
    print(f"{name}: {hits}/{len(texts)} recognised as questions ({hits / len(texts):.1%}); "
          f"{without_mark} without a '?'")
    missed = [t for t, ok in zip(texts, recognised) if not ok]
    for text in random.Random(0).sample(missed, min(shown, len(missed))):
        print(f"  not recognised: {text[:160]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--liveqa", type=Path, help="TREC-2017-LiveQA-Medical-Test.xml")
    parser.add_argument("--reddit", type=Path, help="Empathy-Mental-Health dataset/ folder")
    args = parser.parse_args()
    if not (args.liveqa or args.reddit):
        parser.error("give --liveqa and/or --reddit")
    if args.liveqa:
        report("LiveQA medical test messages (dev figure)", liveqa_messages(args.liveqa))
    if args.reddit:
        report("Reddit peer-support posts, per pair", [post for post, _ in load_pairs(args.reddit)])


if __name__ == "__main__":
    main()
