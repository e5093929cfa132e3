"""Benchmark: the off-topic cutoff (ingest.off_topic.max_z) chosen on real text that is not the
test's (tests/ingest/test_topic.py plants its own sports report among written segments), and the
fast screening encoders issue 19 asks about, side by side with MiniLM on the same draws.

    python bench/bench_offtopic.py PATH/TO/Empathy-Mental-Health/dataset PATH/TO/MedQuAD [--draws 60]
        [--plants 1] [--genuine 60] [--min-tokens N] [--corpus ../shared/data/segments]

Corpus: real peer-support replies from the Reddit part of the EMNLP 2020 empathy corpus
(source and licence in bench/bench_safety.py; 25+ words, each reply once) stand in for one
speaker's segments; real off-topic text is planted among them: MedQuAD answers on genetic
conditions (GHR collection, CC BY 4.0; clone github.com/abachaa/MedQuAD). Each draw takes
--genuine replies and --plants planted answers (seeded), scores every text as synth.ingest.topic
does (mean cosine to its nearest neighbours of the run, all-MiniLM-L6-v2) and its robust z. Printed: the
lowest z of a genuine reply and the highest z of a plant over the draws, and per candidate
cutoff the genuine replies flagged and plants caught (min_cosine and max_share applied as
configured), and the cutoff with the fewest errors, a lost genuine segment and a kept stray
counted alike: the rule that chose the default max_z. --plants 1 (default): one stray per
run; --plants 2: two strays that are each other's neighbours. --min-tokens 160 --genuine 40:
only texts MiniLM reads past 128 tokens (what truncation would cut; 187 such replies).
--same-register: the topic without the register: MedQuAD's neurology answers (NINDS) stand in
for the speaker and digestive, kidney and diabetes answers (NIDDK) are planted, all one
encyclopedic NIH register (the cutoff table's min_cosine and max_z are MiniLM's on replies).

Then, on the same draws, one row per encoder (issue 19: a fast encoder is used where it loses
<= 0.01 AUC and MiniLM is kept where a decision rests on it): the AUC of the robust z, genuine
replies against plants, pooled over the draws, its loss against MiniLM int8 read to 256 tokens
(what ingest runs), the cutoff (max_z, min_cosine) with the fewest errors on these draws (a dev
figure: chosen here) and its errors, and texts per CPU-second on 300 of the draws' texts
(encoded afresh, no vector store). The best cutoff compares each encoder at its own best; it
is not a default: MiniLM's best on the replies (min_cosine 0.14) would keep the sample corpus's
chatter (0.294). Encoders: MiniLM int8 read to 256 (today), 128 and 64 tokens;
the static encoder (bench/static_encoder.py, model2vec's recipe distilled from the installed
MiniLM; distilled on first use, its cost printed). A MedQuAD answer among Reddit replies differs
in register as much as in topic; --same-register and --corpus measure the topic alone.
--corpus (the shared sample corpus, a check, not a dev set: no cutoff is chosen on it): each
encoder's scores over the segments ingest keeps with off-topic off (25+ words; no profiles), and
where the recording chatter (empathetic_batch2.json #19, the one segment ingest quarantines as
off_topic) ranks, lowest first. Not committed: both corpora are downloaded by hand.

Outcome (README, Off-topic): the static encoder gains AUC on the replies (0.9986 against 0.9881;
160+ tokens 1.0000 against 0.9972) at 30-80x the texts per CPU-second, where the stray's register
differs too. With one register (--same-register) it loses 0.0669 (0.9132 against 0.9801; no
variant tried by hand, without PCA or with SIF 1e-3 to 1e-6, came within 0.04) and catches 2 of 60
strays at its best cutoff (MiniLM 32). On the sample corpus, where the stray is speech among
speech, it ranks the chatter 21st of 142 (MiniLM: 1st, z -4.15), so no static cutoff can
quarantine it without quarantining 20 genuine segments first, and a static shortlist for MiniLM
would need the lowest 15% of the corpus and their neighbours. Off-topic keeps MiniLM int8 read to
256 tokens: read to 128 it loses at most 0.0053 AUC (160+ token draws; inside the 0.01) but there
keeps more strays at its best cutoff (18 of 60 against 7), and the quarantine rests on it; read to
64 it loses 0.0158 (160+ tokens) and 0.0103 (one register).
"""
from __future__ import annotations

import argparse
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_safety import load_pairs
from sklearn.metrics import roc_auc_score

from synth.config import IngestConfig, OffTopicConfig
from synth.ingest.topic import neighbour_scores, robust_z
from synth.text import embeddings

CUTOFFS = (-2.5, -3.0, -3.25, -3.5, -4.0)
GRID_Z = (*CUTOFFS, -5.0, -6.0, -np.inf)  # -inf: no z gate, the floor alone
GRID_FLOOR = (*np.round(np.arange(0.05, 0.96, 0.01), 2), 1.0)  # 1.0: no floor
CHATTER = ("empathetic_batch2.json", 19)
TIMED = 300


def plants(medquad: Path, collection: str = "3_GHR_QA") -> list[str]:
    """MedQuAD answers of one collection, 40-250 words."""
    found = []
    for path in sorted((medquad / collection).glob("*.xml")):
        for node in ET.parse(path).getroot().iter("Answer"):
            text = " ".join((node.text or "").split())
            if 40 <= len(text.split()) <= 250:
                found.append(text)
    return found


def score_draws(draws: list[tuple[list[str], list[str]]], vectors: dict[str, np.ndarray],
                k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(scores, z) per draw, genuine texts first."""
    rows = []
    for genuine, plant in draws:
        matrix = np.stack([vectors[t] for t in genuine + plant])
        scores = neighbour_scores(matrix, matrix, list(range(len(matrix))), k)
        rows.append((scores, robust_z(scores)[0]))
    return rows


def errors(rows: list[tuple[np.ndarray, np.ndarray]], genuine: int, max_z: float, floor: float,
           max_share: float) -> tuple[int, int]:
    """(genuine flagged, plants kept) at a cutoff, lowest first and capped as topic.py does."""
    false = kept = 0
    for scores, z in rows:
        below = sorted((i for i in range(len(z)) if z[i] <= max_z and scores[i] < floor),
                       key=lambda i: scores[i])[:int(max_share * len(z))]
        false += sum(i < genuine for i in below)
        kept += len(z) - genuine - sum(i >= genuine for i in below)
    return false, kept


def cutoff_table(rows: list, genuine: int, plants_per_draw: int, cfg: OffTopicConfig) -> None:
    """The table that chose the default max_z (MiniLM, min_cosine as configured)."""
    every_z = np.concatenate([z[:genuine] for _, z in rows]), np.concatenate([z[genuine:] for _, z in rows])
    print(f"lowest genuine z {every_z[0].min():.2f}; plants' z from {every_z[1].min():.2f} to {every_z[1].max():.2f}")
    total = {}
    for cutoff in CUTOFFS:
        false, kept = errors(rows, genuine, cutoff, cfg.min_cosine, cfg.max_share)
        total[cutoff] = false + kept
        print(f"max_z {cutoff:5.2f}: genuine flagged {false}/{genuine * len(rows)}, plants caught "
              f"{plants_per_draw * len(rows) - kept}/{plants_per_draw * len(rows)}, errors (genuine lost + "
              f"plants kept) {total[cutoff]}")
    print(f"fewest errors at max_z {min(total, key=total.__getitem__)}")


def static_encoder() -> Callable[[list[str]], np.ndarray]:
    """bench/static_encoder.py's encoder; distilled first (cost printed) when this machine has none."""
    from static_encoder import STATIC_ID, load_static, static_path

    path = static_path()
    fresh = not path.exists()
    cpu, wall = time.process_time(), time.perf_counter()
    encoder = load_static()
    if fresh:
        print(f"static encoder distilled now: {time.perf_counter() - wall:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} CPU-s, {path.stat().st_size / 2**20:.1f} MiB at {path}")
    else:
        print(f"static encoder from {path} ({path.stat().st_size / 2**20:.1f} MiB; {STATIC_ID})")
    return encoder.encode


def encoders() -> dict[str, tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]]:
    """name -> (vectors through the machine's store, fresh encoding for timing)."""
    from synth.text.encoder import load_encoder

    minilm = load_encoder()
    static = static_encoder()
    table = {}
    for limit in (256, 128, 64):
        table[f"MiniLM int8 @{limit}"] = (lambda ts, n=limit: embeddings.embed(ts, max_tokens=n),
                                          lambda ts, n=limit: minilm.encode(ts, max_tokens=n))
    table["static"] = (static, static)
    return table


def compare(draws: list, texts: list[str], genuine: int, cfg: OffTopicConfig, corpus: Path | None) -> None:
    table = encoders()
    timed = random.Random(5).sample(texts, min(TIMED, len(texts)))
    print(f"\n{'encoder':28} {'AUC z':>7} {'loss':>7} {'best max_z':>10} {'min_cos':>7} {'genuine lost':>12} "
          f"{'plants kept':>11} {'texts/CPU-s':>11}")
    reference = None
    for name, (embed, fresh) in table.items():
        vectors = dict(zip(texts, embed(texts)))
        rows = score_draws(draws, vectors, cfg.neighbours)
        y = np.r_[np.ones(genuine * len(rows)), np.zeros(sum(len(z) - genuine for _, z in rows))]
        z = np.r_[np.concatenate([z[:genuine] for _, z in rows]), np.concatenate([z[genuine:] for _, z in rows])]
        auc = roc_auc_score(y, z)
        reference = auc if reference is None else reference
        grid = {(mz, fl): errors(rows, genuine, mz, fl, cfg.max_share) for mz in GRID_Z for fl in GRID_FLOOR}
        (best_z, floor), (false, kept) = min(grid.items(), key=lambda item: (sum(item[1]), item[1][0]))
        fresh(timed[:2])  # loaded outside the timing
        cpu = time.process_time()
        fresh(timed)
        rate = len(timed) / max(time.process_time() - cpu, 1e-9)
        print(f"{name:28} {auc:7.4f} {reference - auc:+7.4f} {best_z:10.2f} {floor:7.2f} {false:12d} {kept:11d} "
              f"{rate:11.0f}")
    if corpus is not None:
        sample_ranks(corpus, table, cfg)


def sample_ranks(corpus: Path, table: dict, cfg: OffTopicConfig) -> None:
    from synth.experts import load_experts
    from synth.ingest.stage import ingest_paths

    root = Path(__file__).resolve().parent.parent
    result = ingest_paths([str(corpus)], load_experts(root / "configs" / "experts.yaml"),
                          ingest_cfg=IngestConfig(off_topic=OffTopicConfig(method="off")))
    segments = [s for s in result.segments if s.word_count >= cfg.min_words]
    names = [(Path(s.source_file).name, s.record_index) for s in segments]
    texts = [s.text for s in segments]
    print(f"\nsample corpus {corpus}: {len(segments)} segments of {cfg.min_words}+ words (a check: nothing "
          f"chosen on it); where the recording chatter {CHATTER[0]} #{CHATTER[1]} ranks, lowest score first")
    for name, (embed, _) in table.items():
        matrix = embed(texts)
        scores = neighbour_scores(matrix, matrix, list(range(len(matrix))), cfg.neighbours)
        z = robust_z(scores)[0]
        order = list(np.argsort(scores, kind="stable"))
        at = order.index(names.index(CHATTER)) if CHATTER in names else None
        where = f"rank {at + 1} of {len(order)}, z {z[order[at]]:.2f}" if at is not None else "not scored"
        print(f"  {name:28} chatter {where}; lowest z {z.min():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("empathy", type=Path)
    parser.add_argument("medquad", type=Path)
    parser.add_argument("--draws", type=int, default=60)
    parser.add_argument("--plants", type=int, default=1, help="off-topic texts planted per draw")
    parser.add_argument("--genuine", type=int, default=60, help="real replies per draw")
    parser.add_argument("--min-tokens", type=int, default=0, help="only texts of this many MiniLM tokens or more")
    parser.add_argument("--corpus", type=Path, help="the shared sample corpus (segments folder): a check")
    parser.add_argument("--same-register", action="store_true",
                        help="MedQuAD NINDS answers as the speaker, NIDDK answers planted (one register)")
    parser.add_argument("--no-compare", action="store_true", help="the cutoff table alone")
    args = parser.parse_args()
    cfg = OffTopicConfig()
    if args.same_register:  # genuine: neurology answers; planted: digestive and kidney ones (NIDDK)
        replies, planted = sorted(set(plants(args.medquad, "6_NINDS_QA"))), plants(args.medquad, "5_NIDDK_QA")
    else:
        replies = sorted({r for _, r in load_pairs(args.empathy) if len(r.split()) >= cfg.min_words})
        planted = plants(args.medquad)
    if args.min_tokens:
        from synth.text.encoder import load_encoder

        tokenizer = load_encoder().tokenizer(512)
        replies, planted = ([t for t, e in zip(ts, tokenizer.encode_batch(ts)) if len(e.ids) >= args.min_tokens]
                            for ts in (replies, planted))
    rng = random.Random(18)
    draws = [(rng.sample(replies, args.genuine), rng.sample(planted, args.plants)) for _ in range(args.draws)]
    texts = sorted({t for genuine, plant in draws for t in genuine + plant})
    vectors = dict(zip(texts, embeddings.embed(texts)))
    kinds = ("NINDS answers", "NIDDK answers") if args.same_register else \
        (f"real replies of {cfg.min_words}+ words", "GHR answers")
    print(f"{len(replies)} {kinds[0]}, {len(planted)} {kinds[1]}"
          f"{f' ({args.min_tokens}+ tokens)' if args.min_tokens else ''}; {args.draws} draws of {args.genuine} + "
          f"{args.plants} planted; neighbours {cfg.neighbours}, min_cosine {cfg.min_cosine}")
    cutoff_table(score_draws(draws, vectors, cfg.neighbours), args.genuine, args.plants, cfg)
    if not args.no_compare:
        compare(draws, texts, args.genuine, cfg, args.corpus)


if __name__ == "__main__":
    main()
