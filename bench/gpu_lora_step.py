"""GPU benchmark (needs one CUDA GPU; prepared for a session that has one): LoRA steps on the real
Qwen3-8B architecture (random bf16 weights from synth's bundled config.json; no hub), packed vs
padded, and the memory model's predicted peak vs the measured one.

  packed   rows made by synth's own packer (best-fit decreasing, synth.export.pack) written to
           parquet and read back by synth train's loader (synth.train.data); a micro-batch of
           the memory plan's rows is flattened padding-free as TRL's collator does (position_ids
           restart per example, no attention_mask, cu_seq_lens for flash attention)
  padded   the same examples in their original order, batches padded to their longest example,
           with about the same token budget per micro-batch (what a trainer without packing does)

Each mode: LoRA r=16 on the 7 projections, dropout 0.05, AdamW, bf16 autocast, TRL 1.16's fused
LM head when trl is installed (as synth train runs), gradient checkpointing when the memory
plan says so; 2 warm-up steps, then --steps timed steps. Figures: real (non-pad) tokens/s of
each mode and their ratio (goal >= 1.8), torch.cuda.max_memory_allocated / _reserved of the
packed run vs the plan's predicted peak (goal: within 10%). Prints a table and writes JSON to
$OUT/gpu_lora_step.json when OUT is set.

    python bench/gpu_lora_step.py [--gpu H100-80GB] [--seq-len 4096] [--steps 5] [--examples 600]

Takes about 3-5 minutes on one H100 (model init ~1 min, ~20 steps).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from synth.export.basemodel import BUNDLED, normalise_config
from synth.export.memory import PROJECTIONS, ModelShape, plan
from synth.export.pack import ChatExample, Encoded, pack_rows, write_packed_parquet
from synth.train.data import packed_dataset

GIB = 1024**3


def synthetic_examples(n: int, vocab: int, seed: int = 0) -> list[Encoded]:
    """Chat-shaped examples: 40-120 prompt tokens, answers of 60-900 tokens (mean ~400 total,
    like the reference corpus), labels -100 on the prompt."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        prompt, answer = rng.randint(40, 120), int(min(900, max(60, rng.lognormvariate(5.7, 0.5))))
        ids = np.asarray([rng.randrange(10, vocab - 10) for _ in range(prompt + answer)], np.int32)
        labels = ids.copy()
        labels[:prompt] = -100
        example = ChatExample(f"x{i}", "bench", "train", None, "", "")
        out.append(Encoded(example, ids, labels, prompt, answer, ids.size))
    return out


def model_and_shape(gpu_dropout: float, r: int, device: str):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    config = normalise_config(json.loads((BUNDLED / "Qwen--Qwen3-8B.json").read_text()))
    shape = ModelShape.from_config(config, "Qwen3-8B")
    kwargs = {k: v for k, v in config.items() if k not in ("model_type", "architectures", "torch_dtype",
                                                           "dtype", "transformers_version", "layer_types")}
    kwargs["use_cache"] = False
    if device == "cpu":  # --cpu-check: the script's plumbing on a 2-layer model of width 32
        kwargs.update(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8, vocab_size=2048,
                      bos_token_id=None, eos_token_id=None)
    attn = "flash_attention_2" if _has("flash_attn") else "sdpa"
    hf_config = AutoConfig.for_model("qwen3", **kwargs)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.bfloat16, attn_implementation=attn)
    if _has("trl"):
        from trl.trainer.utils import add_fused_lm_head

        add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=gpu_dropout,
                                             target_modules=list(PROJECTIONS), task_type="CAUSAL_LM"))
    return model, shape, attn, hf_config.vocab_size


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def packed_batches(path: Path, vocab: int, rows: int):
    """Micro-batches of `rows` packed rows, flattened padding-free (TRL's collator)."""
    import torch

    data, _ = packed_dataset(path, vocab)
    for start in range(0, len(data) - rows + 1, rows):
        chunk = data[start:start + rows]
        ids = torch.tensor([t for row in chunk["input_ids"] for t in row])[None]
        labels = torch.tensor([t for row in chunk["labels"] for t in row])[None]
        lengths = [n for row in chunk["seq_lengths"] for n in row]
        positions = torch.cat([torch.arange(n) for n in lengths])[None]
        cu = torch.tensor([0, *np.cumsum(lengths)], dtype=torch.int32)
        yield ({"input_ids": ids, "labels": labels, "position_ids": positions, "cu_seq_lens_q": cu,
                "cu_seq_lens_k": cu, "max_length_q": max(lengths), "max_length_k": max(lengths)},
               int(ids.numel()))


def padded_batches(examples: list[Encoded], token_budget: int, pad_id: int):
    """The examples in order, as many per batch as fit the budget when padded to the longest."""
    import torch

    batch: list[Encoded] = []
    for example in examples + [None]:  # type: ignore[list-item]
        longest = max([e.input_ids.size for e in batch] + [example.input_ids.size if example else 0])
        if example is not None and (len(batch) + 1) * longest <= token_budget:
            batch.append(example)
            continue
        width = max(e.input_ids.size for e in batch)
        ids = torch.full((len(batch), width), pad_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, e in enumerate(batch):
            ids[i, : e.input_ids.size] = torch.from_numpy(e.input_ids.astype(np.int64))
            labels[i, : e.input_ids.size] = torch.from_numpy(e.labels.astype(np.int64))
            mask[i, : e.input_ids.size] = 1
        yield {"input_ids": ids, "labels": labels, "attention_mask": mask}, int(mask.sum())
        batch = [example] if example is not None else []


def run_steps(model, optimizer, batches, steps: int, fused: bool, device: str) -> tuple[float, int]:
    """(seconds, real tokens) of `steps` timed steps after 2 warm-up steps."""
    import torch

    seconds, tokens = 0.0, 0
    for index, (batch, real) in enumerate(batches):
        if index >= steps + 2:
            break
        batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
        _sync(device)
        started = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            out = model(**batch, fused_lm_head=True) if fused else model(**batch)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        _sync(device)
        if index >= 2:
            seconds += time.perf_counter() - started
            tokens += real
    return seconds, tokens


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", default="H100-80GB", help="memory-model GPU name (synth.export.memory.GPUS_GIB)")
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--examples", type=int, default=600)
    parser.add_argument("--r", type=int, default=16)
    parser.add_argument("--cpu-check", action="store_true",
                        help="no GPU: run the plumbing once on a tiny model (figures meaningless)")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.cpu_check:
        print("no CUDA GPU: this benchmark needs one (or pass --cpu-check to test the script)")
        return 2
    if device == "cpu":
        args.steps, args.examples, args.seq_len = 1, 40, 1024
    dropout = 0.05
    model, shape, attn, vocab = model_and_shape(dropout, args.r, device)
    memory = plan(shape, args.gpu, args.seq_len, args.r, dropout, trainer="trl")
    if memory.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    fused = _has("trl")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    examples = synthetic_examples(args.examples, vocab)
    folder = Path(tempfile.mkdtemp())
    write_packed_parquet(folder / "train.parquet", pack_rows(examples, args.seq_len))
    rows = memory.micro_batch_rows if device == "cuda" else min(2, memory.micro_batch_rows)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    packed_s, packed_tokens = run_steps(model, optimizer, packed_batches(folder / "train.parquet", vocab, rows),
                                        args.steps, fused, device)
    allocated = torch.cuda.max_memory_allocated() / GIB if device == "cuda" else float("nan")
    reserved = torch.cuda.max_memory_reserved() / GIB if device == "cuda" else float("nan")
    padded_s, padded_tokens = run_steps(model, optimizer, padded_batches(examples, rows * args.seq_len, 0),
                                        args.steps, fused, device)
    figures = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu (--cpu-check)",
        "attention": attn, "fused_lm_head": fused,
        "plan": memory.as_dict(), "packed_tokens_per_s": round(packed_tokens / packed_s, 1),
        "padded_tokens_per_s": round(padded_tokens / padded_s, 1),
        "speedup": round((packed_tokens / packed_s) / (padded_tokens / padded_s), 3),
        "measured_peak_allocated_gib": round(allocated, 2), "measured_peak_reserved_gib": round(reserved, 2),
        "predicted_peak_gib": memory.predicted_peak_gib,
        "predicted_minus_overhead_gib": round(memory.predicted_peak_gib - 1.5, 2),
        "peak_error": round((memory.predicted_peak_gib - 1.5) / allocated - 1, 3),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_lora_step.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
