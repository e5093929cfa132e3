"""Benchmark: the int8 ONNX sentence encoder against the PyTorch fp32 model it is exported from.

  python bench/build_devset.py PATH/TO/MedQuAD dev.jsonl      # once (see its docstring)
  python bench/bench_encoder.py dev.jsonl [--max-tokens 256]

Every distinct text of the dev set (questions and answers) is encoded twice, read up to the
same number of tokens with the same token ids: by synth's encoder (synth.text.encoder, int8,
one text per call) and by the embed extra's PyTorch weights in fp32 (transformers AutoModel,
mean pooling over the attention mask, then L2, as the model card does). Prints the cosine
between the two vectors of each text (mean, 1st percentile, minimum) and, per mismatch kind,
the AUC of the plain question-answer cosine (true pairs against that kind) with each encoder.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from synth.text.encoder import load_encoder, model_dir

KINDS = ("same_type", "same_topic", "other_topic")


def fp32_vectors(ids: list[list[int]], batch: int = 32) -> np.ndarray:
    """The PyTorch fp32 model's mean-pooled, L2-normalised vectors of the given token ids."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir()), dtype=torch.float32).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch):
            part = ids[start:start + batch]
            width = max(map(len, part))
            input_ids = torch.tensor([row + [0] * (width - len(row)) for row in part])
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in part])
            hidden = model(input_ids=input_ids, attention_mask=mask,
                           token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    return np.concatenate(out).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path, help="JSONL from bench/build_devset.py")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="tokens read per text (default: the model's 256; the checks read 128)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = sorted({t for r in rows for t in (r["question"], r["answer"])})
    encoder = load_encoder()
    start = time.perf_counter()
    int8 = encoder.encode(texts, max_tokens=args.max_tokens)
    print(f"int8: {len(texts)} texts in {time.perf_counter() - start:.1f} s")
    ids = [e.ids for e in encoder.tokenizer(args.max_tokens).encode_batch([t.strip() for t in texts])]
    start = time.perf_counter()
    fp32 = fp32_vectors(ids)
    print(f"fp32: {len(texts)} texts in {time.perf_counter() - start:.1f} s")
    agreement = np.sum(int8 * fp32, axis=1)
    print(f"cosine int8 vs fp32 over {len(texts):,} texts: mean {agreement.mean():.3f}, "
          f"1st percentile {np.quantile(agreement, 0.01):.3f}, minimum {agreement.min():.3f}")
    index = {t: i for i, t in enumerate(texts)}
    q = np.array([index[r["question"]] for r in rows])
    a = np.array([index[r["answer"]] for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    true = kinds == "true"
    for name, vectors in (("int8", int8), ("fp32", fp32)):
        cosine = np.sum(vectors[q] * vectors[a], axis=1)
        parts = [f"{kind} {roc_auc_score(np.r_[np.ones(true.sum()), np.zeros((kinds == kind).sum())], np.r_[cosine[true], cosine[kinds == kind]]):.3f}"  # noqa: E501
                 for kind in KINDS]
        print(f"plain cosine AUC, true pairs vs mismatches ({name}): " + ", ".join(parts))


if __name__ == "__main__":
    main()
