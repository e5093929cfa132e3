"""False rejects of the degenerate-question rules (synth/judge/degenerate.py) on real human questions.

Each rule is a hard gate only where it is right when it rejects a real pair (issue 18), so this
counts how many real questions, written by people, each rule would reject:
  --medquad DEV.jsonl   true pairs of bench/build_devset.py (MedQuAD, CC BY 4.0: NIH FAQ
                        questions with their own answers)
  --liveqa XML          TREC 2017 LiveQA medical test set (github.com/abachaa/LiveQA_MedicalTask_TREC2017,
                        TestDataset/TREC-2017-LiveQA-Medical-Test.xml): consumers' own messages
                        with the reference answers
  --empathy DIR         Reddit peer-support posts with their replies (github.com/behavioral-data/
                        Empathy-Mental-Health, dataset/; UW non-commercial research licence)
None of the rules' thresholds or the prompt text were written from these sets; not committed.
Usage: python bench/bench_degenerate.py --medquad dev.jsonl --liveqa PATH.xml --empathy DIR
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_safety import load_pairs as load_empathy

from synth.judge.degenerate import degenerate_question, plan_ngrams

REPO = Path(__file__).resolve().parents[1]
RULES = ("copied_run", "repeated_phrase", "plan_echo")


def load_medquad(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r["answer"]) for r in rows if r.get("kind") == "true"]


def load_liveqa(path: Path) -> list[tuple[str, str]]:
    """(the consumer's subject and message, its first reference answer)."""
    out = []
    for q in ET.parse(path).getroot().iter("NLM-QUESTION"):
        original = q.find("Original-Question")
        if original is None:
            continue
        text = " ".join(filter(None, ((original.findtext("SUBJECT") or "").strip(),
                                      (original.findtext("MESSAGE") or "").strip())))
        found = q.find("ReferenceAnswers/RefAnswer/ANSWER")
        found = found if found is not None else q.find("ReferenceAnswers/ReferenceAnswer/ANSWER")
        answer = " ".join((found.text or "").split()) if found is not None else ""
        if text and answer:
            out.append((text, answer))
    return out


def measure(name: str, pairs: list[tuple[str, str]], plan: frozenset[tuple[str, ...]], show: int) -> None:
    start = time.perf_counter()
    results = [degenerate_question(q, a, plan) for q, a in pairs]
    seconds = time.perf_counter() - start
    print(f"\n{name}: {len(pairs)} real questions ({len(pairs) / seconds:,.0f} pairs/s)")
    for rule in RULES:
        hits = [(q, r) for (q, _), r in zip(pairs, results) if f"{rule}:" in r.reason and not r.passed]
        print(f"  {rule:<16} rejected {len(hits):>4}/{len(pairs)} ({len(hits) / len(pairs):.2%})")
        for q, r in hits[:show]:
            print(f"      {r.reason[:110]!s} | {' '.join(q.split())[:110]}")
    rejected = sum(not r.passed for r in results)
    copied = sorted(r.details["copied_run"] for r in results)
    repeats = max(r.details["repeated_share"] for r in results)
    print(f"  any rule         rejected {rejected:>4}/{len(pairs)} ({rejected / len(pairs):.2%}); longest copied "
          f"run median {copied[len(copied) // 2]:.0f}, 99th pct {copied[int(len(copied) * 0.99)]:.0f}, "
          f"max {copied[-1]:.0f} words; largest repeated-trigram share {repeats:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medquad", type=Path)
    parser.add_argument("--liveqa", type=Path)
    parser.add_argument("--empathy", type=Path)
    parser.add_argument("--prompts", type=Path, default=REPO / "prompts")
    parser.add_argument("--show", type=int, default=5, help="rejected questions to print per rule")
    args = parser.parse_args()
    plan = plan_ngrams(str(args.prompts))
    print(f"plan text: {len(plan)} distinct phrases (6-word runs, whole voice/length descriptions) "
          f"from {args.prompts}")
    sources = [("MedQuAD true pairs", args.medquad, load_medquad),
               ("LiveQA consumer questions", args.liveqa, load_liveqa),
               ("Reddit peer-support posts", args.empathy, load_empathy)]
    if not any(path for _, path, _ in sources):
        sys.exit("give at least one of --medquad, --liveqa, --empathy")
    for name, path, load in sources:
        if path:
            measure(name, load(path), plan, args.show)


if __name__ == "__main__":
    main()
