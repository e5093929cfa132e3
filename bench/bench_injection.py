"""Benchmark: text that talks to the model (ingest's prompt_injection flag) and questions that
ask for serious harm (the judge's harmful_request check).

    .venv/bin/python bench/bench_injection.py [--medquad /tmp/MedQuAD]

On bench/data/injection_heldout.yaml (written after the rules, by their author: see its
header) it prints segments flagged of those that talk to the model, ordinary segments flagged,
harmful questions failed and ordinary questions failed, with every miss and false alarm. With
--medquad (git clone https://github.com/abachaa/MedQuAD, CC BY 4.0) it also prints the false
alarms on real text no rule was written from: MedQuAD answers read as segments and MedQuAD
questions read by the harm check.
"""
from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from synth.ingest.injection import find_injection
from synth.judge.harm import harmful_request

DATA = Path(__file__).resolve().parent / "data" / "injection_heldout.yaml"


def report(label: str, texts: list[str], hit, want: bool) -> None:
    wrong = [t for t in texts if bool(hit(t)) != want]
    right = len(texts) - len(wrong)
    print(f"{label}: {right}/{len(texts)} {'caught' if want else 'passed'}")
    for text in wrong:
        print(f"    {'missed' if want else 'false alarm'}: {' '.join(text.split())[:110]}")


def medquad(root: Path) -> tuple[list[str], list[str]]:
    answers, questions = [], []
    for path in sorted(root.glob("*/*.xml")):
        doc = ET.parse(path).getroot()
        answers += [" ".join((n.text or "").split()) for n in doc.iter("Answer") if (n.text or "").strip()]
        questions += [" ".join((n.text or "").split()) for n in doc.iter("Question") if (n.text or "").strip()]
    return answers, questions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--medquad", type=Path)
    args = parser.parse_args()
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    report("segments talking to the model", data["segments_talking_to_the_model"], find_injection, True)
    report("ordinary segments", data["ordinary_segments"], find_injection, False)
    report("harmful questions", data["harmful_questions"], harmful_request, True)
    report("ordinary questions", data["ordinary_questions"], harmful_request, False)
    if args.medquad:
        answers, questions = medquad(args.medquad)
        flagged = [a for a in answers if find_injection(a)]
        failed = [q for q in questions if harmful_request(q)]
        print(f"MedQuAD answers flagged prompt_injection: {len(flagged)} of {len(answers)}")
        for text in flagged[:5]:
            print(f"    {find_injection(text)}")
        print(f"MedQuAD questions failed harmful_request: {len(failed)} of {len(questions)}")
        for text in failed[:5]:
            print(f"    {text[:110]}")


if __name__ == "__main__":
    main()
