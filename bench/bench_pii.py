"""Benchmark: PII redaction (synth.ingest.pii) on the planted set bench/data/pii_heldout.yaml.

    .venv/bin/python bench/bench_pii.py

Prints recall per kind of planted name (names that are common words, titled names, cued first
names, plain full names) and addresses, then how many texts of each kind that holds no personal
data lose something (helpline numbers, public figures cited as sources, common words), then the
speed of redaction per text with the NER batched (nlp.pipe, as ingest runs it) and unbatched.
Then the prefilter (pii.might_have_pii): planted texts that reach Presidio, and on the shared
sample corpus how many texts it skips and whether redact() would have changed any of them.
The set was written after the name rules were frozen, by the rules' author (see its header).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import yaml

from synth.ingest import nermodel, pii

DATA = Path(__file__).resolve().parent / "data" / "pii_heldout.yaml"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "segments"


def prefilter_on_corpus(folder: Path) -> None:
    """How many of the sample corpus's texts reach Presidio, and whether redact() would change
    any that the prefilter (pii.might_have_pii) lets pass unread."""
    import json

    texts = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for segment in data["segments"] if isinstance(data, dict) else data:
            texts.append(str(segment.get("text") or segment.get("segment_text") or ""))
    if not texts:
        print(f"prefilter: no sample corpus at {folder}")
        return
    skipped = [t for t in texts if not pii.might_have_pii(t)]
    changed = [t for t in skipped if pii.redact(t)[1]]
    print(f"prefilter {len(texts) - len(skipped)}/{len(texts)} sample-corpus texts reach Presidio; "
          f"of the {len(skipped)} skipped, redact() would change {len(changed)} (dev figure: the corpus the "
          "prefilter was checked on)")


def main() -> None:
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    if not pii.available():
        raise SystemExit("the screen extra is not installed: pip install -e '.[screen]'")
    print(f"NER: {pii.spacy_model() or 'none (cue rules only)'}")
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    pii.redact("warm-up: Dr. Smith")
    total_hit = total = 0
    for kind, cases in data["redact"].items():
        misses = []
        for text, planted in cases:
            redacted, _ = pii.redact(text)
            if any(value in redacted for value in planted):
                misses.append(redacted)
        hit = len(cases) - len(misses)
        total_hit, total = total_hit + hit, total + len(cases)
        print(f"recall  {kind:18s} {hit}/{len(cases)}")
        for line in misses:
            print(f"        missed: {line}")
    print(f"recall  {'all':18s} {total_hit}/{total} ({total_hit / total:.0%})")
    for kind, texts in data["keep"].items():
        changed = [r for r in (pii.redact(t)[0] for t in texts) if r not in texts]
        print(f"kept    {kind:18s} {len(texts) - len(changed)}/{len(texts)}")
        for line in changed:
            print(f"        redacted: {line}")
    planted = [t for cases in data["redact"].values() for t, _ in cases]
    print(f"prefilter {sum(map(pii.might_have_pii, planted))}/{len(planted)} planted texts reach Presidio")
    prefilter_on_corpus(CORPUS)
    texts = planted + [t for group in data["keep"].values() for t in group]
    texts = [f"{t} ({i})" for i in range(10) for t in texts]  # distinct texts, no cache
    start = time.perf_counter()
    for text in texts:
        pii.redact(text)
    single = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    with pii.prepared(texts):
        for text in texts:
            pii.redact(text)
    batched = (time.perf_counter() - start) / len(texts)
    print(f"speed   {len(texts)} texts: {1000 * single:.1f} ms/text one by one, {1000 * batched:.1f} ms/text "
          f"batched (nlp.pipe, batch {nermodel.BATCH})")


if __name__ == "__main__":
    main()
