"""Build the checks' dev set (bench/bench_checks.py) from a MedQuAD checkout.

Data: MedQuAD (Ben Abacha & Demner-Fushman 2019, github.com/abachaa/MedQuAD, CC BY 4.0):
question/answer pairs from 12 NIH websites; the answers are the sites' own FAQ text, the
questions the sites' headings as the authors phrased them, each with a question type and a
focus (the disease or topic). Not CounselChat, not ESConv, nothing built from them.

Each sampled document gives one true pair (a random question of it with its own answer) and
three mismatches for the same answer:
  same_type    a question of the same type and collection about another focus (the "same
               topic" mismatch: e.g. another GARD "symptoms" question) -- the figure to beat
  same_topic   another question type about the same focus (same disease, different ask)
  other_topic  a question from another collection
Usage: python bench/build_devset.py PATH/TO/MedQuAD OUT.jsonl [--n 2000] [--seed 0]
(the three MedlinePlus subsets published without answers are skipped).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SKIP = ("10_", "11_", "12_")  # MedlinePlus subsets published without answers
MAX_ANSWER_WORDS = 300


def read_docs(root: Path) -> list[dict]:
    docs = []
    for path in sorted(root.glob("*_*/*.xml")):
        if path.parent.name.startswith(SKIP):
            continue
        tree = ET.parse(path).getroot()
        focus = (tree.findtext("Focus") or "").strip()
        pairs = []
        for qa in tree.iter("QAPair"):
            question = qa.find("Question")
            answer = " ".join((qa.findtext("Answer") or "").split())
            if question is None or not (question.text or "").strip() or len(answer.split()) < 20:
                continue
            pairs.append((question.get("qtype", ""), " ".join(question.text.split()),
                          " ".join(answer.split()[:MAX_ANSWER_WORDS])))
        if focus and pairs:
            docs.append({"id": path.stem, "collection": path.parent.name, "focus": focus, "pairs": pairs})
    return docs


def build(docs: list[dict], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    several = [d for d in docs if len({p[0] for p in d["pairs"]}) >= 2]
    rng.shuffle(several)
    by_type: dict[tuple[str, str], list[tuple[str, tuple[str, str, str]]]] = {}
    for d in docs:
        for p in d["pairs"]:
            by_type.setdefault((d["collection"], p[0]), []).append((d["id"], p))
    rows = []
    for d in several[:n]:
        qtype, question, answer = rng.choice(d["pairs"])
        base = {"answer": answer, "topic": f'{d["collection"]}:{qtype}', "focus": d["focus"]}
        rows.append({**base, "id": f'{d["id"]}-true', "question": question, "kind": "true"})
        same_type = [x for x in by_type[(d["collection"], qtype)] if x[0] != d["id"]]
        if same_type:
            rows.append({**base, "id": f'{d["id"]}-type', "question": rng.choice(same_type)[1][1],
                         "kind": "same_type"})
        other_ask = [p for p in d["pairs"] if p[0] != qtype]
        rows.append({**base, "id": f'{d["id"]}-focus', "question": rng.choice(other_ask)[1],
                     "kind": "same_topic"})
        other = rng.choice([x for x in docs if x["collection"] != d["collection"]])
        rows.append({**base, "id": f'{d["id"]}-other', "question": rng.choice(other["pairs"])[1],
                     "kind": "other_topic"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("medquad", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    docs = read_docs(args.medquad)
    rows = build(docs, args.n, args.seed)
    with args.out.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    print(f"{len(docs)} documents, {len(rows)} rows -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
