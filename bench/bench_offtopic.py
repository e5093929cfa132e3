"""Benchmark: the off-topic cutoff (ingest.off_topic.max_z) chosen on real text that is not the
test's (tests/ingest/test_topic.py plants its own sports report among written segments).

    python bench/bench_offtopic.py PATH/TO/Empathy-Mental-Health/dataset PATH/TO/MedQuAD [--draws 30]

Corpus: real peer-support replies from the Reddit part of the EMNLP 2020 empathy corpus
(source and licence in bench/bench_safety.py; 25+ words, each reply once) stand in for one
speaker's segments; real off-topic text is planted among them: MedQuAD answers on genetic
conditions (GHR collection, CC BY 4.0; clone github.com/abachaa/MedQuAD). Each draw takes 60
replies and --plants planted answers (seeded), scores every text as synth.ingest.topic does (mean
cosine to its nearest neighbours of the run, all-MiniLM-L6-v2) and its robust z. Printed: the
lowest z of a genuine reply and the highest z of a plant over the draws, and per candidate
cutoff the genuine replies flagged and plants caught (min_cosine and max_share applied as
configured), and the cutoff with the fewest errors, a lost genuine segment and a kept stray
counted alike: the rule that chose the default max_z. --plants 1 (default): one stray per
run; --plants 2: two strays that are each other's neighbours. Not committed: both corpora are downloaded by hand.
"""
from __future__ import annotations

import argparse
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from bench_safety import load_pairs

from synth.config import OffTopicConfig
from synth.ingest.topic import neighbour_scores, robust_z
from synth.text import embeddings

CUTOFFS = (-2.5, -3.0, -3.25, -3.5, -4.0)


def plants(medquad: Path) -> list[str]:
    found = []
    for path in sorted((medquad / "3_GHR_QA").glob("*.xml")):
        for node in ET.parse(path).getroot().iter("Answer"):
            text = " ".join((node.text or "").split())
            if 40 <= len(text.split()) <= 250:
                found.append(text)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("empathy", type=Path)
    parser.add_argument("medquad", type=Path)
    parser.add_argument("--draws", type=int, default=60)
    parser.add_argument("--plants", type=int, default=1, help="off-topic texts planted per draw")
    args = parser.parse_args()
    cfg = OffTopicConfig()
    replies = sorted({r for _, r in load_pairs(args.empathy) if len(r.split()) >= cfg.min_words})
    planted = plants(args.medquad)
    rng = random.Random(18)
    draws = [(rng.sample(replies, 60), rng.sample(planted, args.plants)) for _ in range(args.draws)]
    texts = sorted({t for genuine, plant in draws for t in genuine + plant})
    vectors = dict(zip(texts, embeddings.embed(texts)))
    print(f"{len(replies)} real replies of {cfg.min_words}+ words, {len(planted)} GHR answers; "
          f"{args.draws} draws of 60 + {args.plants} planted; neighbours {cfg.neighbours}, min_cosine {cfg.min_cosine}")
    genuine_z, plant_z, rows = [], [], []
    for genuine, plant in draws:
        run = genuine + plant
        matrix = np.stack([vectors[t] for t in run])
        scores = neighbour_scores(matrix, matrix, list(range(len(run))), cfg.neighbours)
        z, _, _ = robust_z(scores)
        genuine_z += list(z[:60])
        plant_z += list(z[60:])
        rows.append((scores, z))
    print(f"lowest genuine z {min(genuine_z):.2f}; plants' z from {min(plant_z):.2f} to {max(plant_z):.2f}")
    errors = {}
    for cutoff in CUTOFFS:
        false = caught = 0
        for scores, z in rows:
            below = sorted((i for i in range(len(z)) if z[i] <= cutoff and scores[i] < cfg.min_cosine),
                           key=lambda i: scores[i])[:int(cfg.max_share * len(z))]
            false += sum(i < 60 for i in below)
            caught += sum(i >= 60 for i in below)
        errors[cutoff] = false + args.plants * len(rows) - caught
        print(f"max_z {cutoff:5.2f}: genuine flagged {false}/{60 * len(rows)}, "
              f"plants caught {caught}/{args.plants * len(rows)}, errors (genuine lost + plants kept) {errors[cutoff]}")
    print(f"fewest errors at max_z {min(errors, key=errors.__getitem__)}")


if __name__ == "__main__":
    main()
