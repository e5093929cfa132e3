"""Benchmark: PII redaction (synth.ingest.pii) on the planted set bench/data/pii_heldout.yaml.

    .venv/bin/python bench/bench_pii.py

Prints recall per kind of planted name (names that are common words, titled names, cued first
names, plain full names) and addresses, then how many texts of each kind that holds no personal
data lose something (helpline numbers, public figures cited as sources, common words), then the
speed of redaction per text with the NER batched (nlp.pipe, as ingest runs it) and unbatched.
The set was written after the name rules were frozen, by the rules' author (see its header).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import yaml

from synth.ingest import nermodel, pii

DATA = Path(__file__).resolve().parent / "data" / "pii_heldout.yaml"


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
    texts = [t for cases in data["redact"].values() for t, _ in cases]
    texts += [t for group in data["keep"].values() for t in group]
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
