"""Benchmark: how often each gate of the checks rejects a real, true question/answer pair.

  python bench/bench_gates.py --medquad dev.jsonl --liveqa PATH/TREC-2017-LiveQA-Medical-Test.xml
                              [--cache vectors.npz]

A gate that rejects a real pair must be right when it does (issue 18): this prints, per check
and per failure kind, the share of TRUE pairs it fails, on two sets of real text:

  MedQuAD   the true pairs of a dev set built by bench/build_devset.py (NIH FAQ answers and
            their questions; CC BY 4.0), checked in one file with their mismatches, as
            `synth check` would see them (alignment is pool-relative)
  LiveQA    the TREC 2017 LiveQA medical test set (github.com/abachaa/LiveQA_MedicalTask_TREC2017,
            TestDataset/TREC-2017-LiveQA-Medical-Test.xml): 104 consumer health messages as people
            wrote them (subject and message), each with its reference answers written by NLM
            staff, checked in one file (one pair per reference answer)

Neither is committed; neither is CounselChat, ESConv or built from them. Whether a failing
check is a veto: `safety_screen` and `harmful_request` always (the safety policy,
synth.judge.harm), the rubric's `required_checks` (judges/default.yaml) in the judge, and every
check but synth.judge.checks.ADVISORY_CHECKS (lexical_overlap, question_length: scores) in
`synth check`'s verdict. Needs the embed
extra (alignment and the unsafe-advice screen).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from bench_checks import NpzCache

from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import ADVISORY_CHECKS, run_checks
from synth.judge.rubric import load_rubric
from synth.judge.safety import SafetyPolicy

ROOT = Path(__file__).resolve().parents[1]
ALWAYS = {"safety_screen", "harmful_request"}  # the safety policy and synth.judge.harm, in every run


def medquad(path: Path) -> tuple[list[tuple[str, str]], list[bool]]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return [(r["question"], r["answer"]) for r in rows], [r["kind"] == "true" for r in rows]


def liveqa(path: Path) -> tuple[list[tuple[str, str]], list[bool]]:
    items = []
    for question in ET.parse(path).getroot().iter("NLM-QUESTION"):
        subject = (question.findtext("Original-Question/SUBJECT") or "").strip()
        message = (question.findtext("Original-Question/MESSAGE") or "").strip()
        text = f"{subject}. {message}" if subject and subject.lower() not in message.lower() else message
        for answer in question.iter("ANSWER"):
            body = " ".join((answer.text or "").split())
            if text and body:
                items.append((" ".join(text.split()), body))
    return items, [True] * len(items)


def kind(check: str, reason: str) -> str:
    """The failure kind within a check: formatting's problems, the safety policy's reasons."""
    if check == "formatting":
        return "; ".join(sorted({re.sub(r"\d+", "N", p.split("(")[0].split("'")[0].strip())
                                 for p in reason.split("; ")}))
    if check == "safety_screen":
        return reason.split(" (")[0]
    return "failed"


def report(name: str, items: list[tuple[str, str]], true: list[bool], policy: SafetyPolicy,
           cache: NpzCache, required: set[str]) -> None:
    checks = run_checks(items, ChecksConfig(), policy, cache)
    kept = [c for c, t in zip(checks, true) if t]
    n = len(kept)
    print(f"\n{name}: {n} true pairs ({len(items)} pairs checked in one file)")
    names = [r.name for r in kept[0].results]
    for check in names:
        failed = [c.get(check) for c in kept if not c.get(check).passed]
        veto = "veto" if check in required | ALWAYS else "score"
        print(f"  {check:22s} {veto:5s} {len(failed):5d}/{n} = {len(failed) / n:6.1%}")
        for what, count in Counter(kind(check, r.reason) for r in failed).most_common(6):
            print(f"      {count:5d}  {what[:110]}")
    judge_veto = sum(any(not c.get(x).passed for x in required | ALWAYS) for c in kept)
    verdict = sum(not all(r.passed for r in c.results if r.name not in ADVISORY_CHECKS) for c in kept)
    print(f"  any veto of the judge ({', '.join(sorted(required | ALWAYS))}): "
          f"{judge_veto}/{n} = {judge_veto / n:.1%}; `synth check` verdict: {verdict}/{n} = {verdict / n:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medquad", type=Path, help="a dev set of bench/build_devset.py")
    parser.add_argument("--liveqa", type=Path, help="TREC-2017-LiveQA-Medical-Test.xml")
    parser.add_argument("--cache", type=Path, help="vector cache (.npz) for reruns")
    args = parser.parse_args()
    if not (args.medquad or args.liveqa):
        parser.error("give --medquad and/or --liveqa")
    policy = SafetyPolicy.from_config(SafetyConfig())
    required = set(load_rubric(ROOT / "judges" / "default.yaml").accept.required_checks)
    cache = NpzCache(args.cache)
    if args.liveqa:
        report("LiveQA (real consumer messages, reference answers)", *liveqa(args.liveqa), policy,
               cache, required)
    if args.medquad:
        report("MedQuAD (NIH FAQ pairs)", *medquad(args.medquad), policy, cache, required)
    return 0


if __name__ == "__main__":
    sys.exit(main())
