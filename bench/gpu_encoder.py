"""Device check (needs a CUDA GPU): the sentence encoder's texts/s on GPU vs CPU, same texts.

    .venv/bin/python bench/gpu_encoder.py [--texts 4000]

Runs in one process, on texts made here (seeded sentences of 10-120 words):
  1. the int8 ONNX export on the CPU provider (synth's CPU path: one text per call, a thread per core);
  2. the same export on ONNX Runtime's CUDA provider (what synth uses when onnxruntime has it:
     the onnxruntime-gpu build), one text per call as synth runs it;
  3. the PyTorch fp32 model on CUDA, batched 256 (sentence-transformers), for reference;
and prints texts/s of each and the mean / minimum cosine of the CUDA vectors against the CPU ones.
A run that finds no CUDA prints what is missing and exits 2.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("feel shame guilt healing parent child boundary anxiety body nervous system safe support notice "
         "gentle pattern grief partner friend worth critic voice breathe calm pause learn trust hope fear "
         "the a and to of you your it that is in so when this was not with but because can").split()


def texts(n: int) -> list[str]:
    rng = random.Random(5)
    return [" ".join(rng.choices(WORDS, k=rng.randint(10, 120))).capitalize() + "." for _ in range(n)]


def timed(label: str, encode, items: list[str]) -> np.ndarray:
    encode(items[:8])  # warm up (CUDA context, kernels) outside the timing
    start = time.perf_counter()
    vectors = np.asarray(encode(items))
    elapsed = time.perf_counter() - start
    print(f"{label:52} {len(items) / elapsed:9.0f} texts/s ({elapsed:.1f} s)", flush=True)
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=4000)
    args = parser.parse_args()
    import onnxruntime
    import torch

    from synth.text import encoder

    if not torch.cuda.is_available():
        print("no CUDA device visible to torch")
        sys.exit(2)
    items = texts(args.texts)
    print(f"{torch.cuda.get_device_name(0)}; onnxruntime {onnxruntime.__version__} providers "
          f"{onnxruntime.get_available_providers()}; {os.cpu_count()} CPUs")
    path = encoder.onnx_path()
    encoder.load_encoder()  # exports once when missing
    os.environ["SYNTH_ENCODER_DEVICE"] = "cpu"
    cpu = timed("int8 ONNX, CPU provider (synth's CPU path)", encoder.OnnxEncoder(path, encoder.model_dir()).encode,
                items)
    os.environ.pop("SYNTH_ENCODER_DEVICE")
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        gpu = encoder.OnnxEncoder(path, encoder.model_dir())
        print(f"session providers: {gpu.session.get_providers()}")
        cuda = timed("int8 ONNX, CUDA provider (synth's GPU path)", gpu.encode, items)
        agreement = np.einsum("ij,ij->i", cpu, cuda)
        print(f"CUDA vs CPU vectors: cosine mean {agreement.mean():.4f}, min {agreement.min():.4f}")
    else:
        print("onnxruntime has no CUDA provider here (install onnxruntime-gpu for synth's GPU path)")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(encoder.model_dir()), device="cuda")
    timed("PyTorch fp32, CUDA, batch 256 (reference)",
          lambda ts: model.encode(ts, batch_size=256, normalize_embeddings=True, convert_to_numpy=True), items)


if __name__ == "__main__":
    main()
