"""Benchmark: real English text quarantined as non_english (synth.ingest.flags.is_non_english).

    git clone https://github.com/abachaa/MedQuAD /tmp/MedQuAD   # CC BY 4.0, NIH answers
    .venv/bin/python bench/bench_language.py /tmp/MedQuAD [--answers 1500]

MedQuAD answers are real English written by NIH sites, dense with medical terms and few
function words: the text lingua is asked about. The GARD and GHR collections chose lingua's
confidence cutoff (synth.ingest.langid.SURE); the other collections with answers (CancerGov,
NIDDK, NINDS, SeniorHealth, NHLBI, CDC, MedlinePlus Health Topics) are held out and measured
here. Each sampled answer is read whole, cut to its first 6, 12 and 25 words, and with every
". " glued to "." ("end.Next"). Printed: texts flagged with the cutoff (as shipped) and with no
cutoff (lingua's top language decides, as before), per form.
"""
from __future__ import annotations

import argparse
import random
import xml.etree.ElementTree as ET
from pathlib import Path

from synth.ingest import langid
from synth.ingest.flags import is_non_english
from synth.text.stats import profile

TUNING = ("2_GARD_QA", "3_GHR_QA")
HELD_OUT = ("1_CancerGov_QA", "4_MPlus_Health_Topics_QA", "5_NIDDK_QA", "6_NINDS_QA", "7_SeniorHealth_QA",
            "8_NHLBI_QA_XML", "9_CDC_QA")


def answers(root: Path, collections: tuple[str, ...]) -> list[str]:
    found = []
    for name in collections:
        for path in sorted((root / name).glob("*.xml")):
            for node in ET.parse(path).getroot().iter("Answer"):
                text = " ".join((node.text or "").split())
                if len(text.split()) >= 8:
                    found.append(text)
    return found


def forms(text: str) -> dict[str, str]:
    words = text.split()
    return {"whole": " ".join(words[:400]), "6 words": " ".join(words[:6]), "12 words": " ".join(words[:12]),
            "25 words": " ".join(words[:25]), "glued": " ".join(words[:400]).replace(". ", ".")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("medquad", type=Path)
    parser.add_argument("--answers", type=int, default=1500)
    args = parser.parse_args()
    if not langid.available():
        raise SystemExit("the screen extra is not installed (lingua)")
    texts = answers(args.medquad, HELD_OUT)
    random.Random(18).shuffle(texts)
    texts = texts[:args.answers]
    print(f"{len(texts)} held-out MedQuAD answers (of {', '.join(HELD_OUT)})")
    shipped = langid.SURE
    for label, sure in (("cutoff SURE", shipped), ("no cutoff", 0.0)):
        langid.SURE = sure
        counts: dict[str, int] = {}
        examples: list[str] = []
        for text in texts:
            for form, variant in forms(text).items():
                if is_non_english(profile(variant), variant):
                    counts[form] = counts.get(form, 0) + 1
                    examples.append(variant[:100])
        total = sum(counts.values())
        shown = ", ".join(f"{form} {counts.get(form, 0)}" for form in forms("a"))
        print(f"{label} ({sure}): {total} of {5 * len(texts)} texts flagged non_english ({shown})")
        for line in examples[:5]:
            print(f"    {line}")
    langid.SURE = shipped


if __name__ == "__main__":
    main()
