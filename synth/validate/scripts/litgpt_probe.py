"""LitGPT checks, run by path with the python of synth's LitGPT venv (not importable by synth).

usage: python _litgpt_check.py SPEC.json RESULT.json

SPEC: {"tokenizer_dir", "prompt_style", "max_seq_length", "experts": {name: litgpt export dir},
       "lora_step": bool, "work_dir", "model_name", "lora": {name: {"r", "alpha", "dropout"}}}
RESULT: {name: {"litgpt_load": CHECK, "litgpt_lora_step": CHECK}} with
        CHECK = {"status": "pass"|"fail"|"skipped", "detail": str, "figures": {str: float}}

Only the standard library, torch and litgpt are used here: synth itself is not installed in
the LitGPT venv.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml
from litgpt import GPT, Config
from litgpt.data import JSON
from litgpt.tokenizer import Tokenizer
from litgpt.utils import save_config

MAX_BAD_IDS = 5


def check(status: str, detail: str = "", **figures: float) -> dict:
    return {"status": status, "detail": detail, "figures": figures}


def row_problem(item: dict, tokenizer: Tokenizer) -> str | None:
    labels = item["labels"].tolist()
    ids = item["input_ids"].tolist()
    trained = [t for t in labels if t != -100]
    if not trained:
        return "no answer token left after max_seq_length"
    if len(trained) == len(labels):
        return "prompt not masked"
    if tokenizer.bos_id is not None and ids[:2] == [tokenizer.bos_id] * 2:
        return "double BOS"
    if labels[-1] != tokenizer.eos_id:
        return "does not end with EOS (truncated?)"
    return None


def scan_rows(dataset, tokenizer: Tokenizer) -> tuple[int, list[str]]:
    """Tokenize every row like LitGPT does in training; return (tokens, problems)."""
    tokens, problems = 0, []
    for index in range(len(dataset)):
        row = dataset.data[index]
        try:
            item = dataset[index]
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"row {index} id={row.get('id')}: {type(exc).__name__}: {exc}")
            continue
        tokens += len(item["input_ids"])
        problem = row_problem(item, tokenizer)
        if problem:
            problems.append(f"row {index} id={row.get('id')}: {problem}")
    return tokens, problems


def load_check(export_dir: Path, tokenizer: Tokenizer, spec: dict) -> dict:
    try:
        data = JSON(json_path=export_dir, mask_prompt=True, prompt_style=spec["prompt_style"],
                    num_workers=0)
        data.connect(tokenizer, batch_size=2, max_seq_length=spec["max_seq_length"])
        data.setup()
    except (FileNotFoundError, ValueError, json.JSONDecodeError, KeyError) as exc:
        return check("fail", f"LitGPT JSON module cannot load {export_dir}: {exc}")
    if len(data.train_dataset) == 0:
        return check("fail", f"{export_dir}/train.jsonl has no rows")
    train_tokens, problems = scan_rows(data.train_dataset, tokenizer)
    val_tokens, val_problems = scan_rows(data.test_dataset, tokenizer)
    problems += [f"val {p}" for p in val_problems]
    batch = next(iter(data.train_dataloader()))
    missing = {"input_ids", "labels", "token_counts"} - set(batch)
    if missing:
        problems.append(f"batch lacks {sorted(missing)}")
    figures = {"train_rows": len(data.train_dataset), "val_rows": len(data.test_dataset),
                   "train_tokens": train_tokens, "val_tokens": val_tokens,
                   "batch_rows": int(batch["input_ids"].shape[0]),
                   "batch_len": int(batch["input_ids"].shape[1])}
    if problems:
        shown = "; ".join(problems[:MAX_BAD_IDS])
        return check("fail", f"{len(problems)} row(s) fail in LitGPT: {shown}", **figures)
    return check("pass", f"prompt_style={spec['prompt_style']}, mask_prompt=True, batch drawn",
                 **figures)


def tiny_checkpoint(spec: dict, tokenizer: Tokenizer) -> Path:
    """A randomly initialised 2-layer model of the target architecture, as a LitGPT checkpoint."""
    folder = Path(spec["work_dir"]) / f"tiny-{spec['prompt_style']}"
    folder.mkdir(parents=True, exist_ok=True)
    vocab = tokenizer.processor.get_vocab_size(with_added_tokens=True)
    config = Config.from_name(spec["model_name"], n_layer=2, n_embd=32, n_head=4, n_query_groups=2,
                              head_size=8, intermediate_size=64, vocab_size=vocab,
                              padded_vocab_size=(vocab + 63) // 64 * 64, block_size=4096)
    torch.manual_seed(0)
    torch.save(GPT(config).state_dict(), folder / "lit_model.pth")
    save_config(config, folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if (Path(spec["tokenizer_dir"]) / name).exists():
            shutil.copy(Path(spec["tokenizer_dir"]) / name, folder / name)
    return folder


def finetune_yaml(spec: dict, expert: str, checkpoint: Path, out_dir: Path) -> dict:
    lora = spec["lora"][expert]
    return {
        "checkpoint_dir": str(checkpoint), "out_dir": str(out_dir), "precision": "32-true",
        "devices": 1, "lora_r": lora["r"], "lora_alpha": lora["alpha"],
        "lora_dropout": lora["dropout"], "lora_query": True, "lora_key": True,
        "lora_value": True, "lora_projection": True, "lora_mlp": True, "lora_head": False,
        "data": {"class_path": "litgpt.data.JSON", "init_args": {
            "json_path": spec["experts"][expert], "mask_prompt": True,
            "prompt_style": spec["prompt_style"], "num_workers": 0}},
        "train": {"save_interval": 1000, "log_interval": 1, "global_batch_size": 1,
                  "micro_batch_size": 1, "lr_warmup_steps": 1, "max_steps": 2, "epochs": 1,
                  "max_seq_length": min(spec["max_seq_length"], 512)},
        "eval": {"interval": 1000, "max_new_tokens": 2, "max_iters": 1,
                 "initial_validation": False, "final_validation": False},
        "logger_name": "csv", "seed": 0,
    }


def lora_step(spec: dict, expert: str, checkpoint: Path) -> dict:
    out_dir = Path(spec["work_dir"]) / expert
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    config_path = out_dir / "finetune_lora.yaml"
    config_path.write_text(yaml.safe_dump(finetune_yaml(spec, expert, checkpoint, out_dir)))
    litgpt = Path(sys.executable).with_name("litgpt")
    started = time.perf_counter()
    done = subprocess.run([str(litgpt), "finetune_lora", "--config", str(config_path)],
                          capture_output=True, text=True, cwd=out_dir, check=False)
    seconds = round(time.perf_counter() - started, 2)
    (out_dir / "finetune.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return check("fail", f"litgpt finetune_lora exit {done.returncode}: {tail}", seconds=seconds)
    final = out_dir / "final"
    missing = [n for n in ("lit_model.pth.lora", "lit_model.pth") if not (final / n).exists()]
    if missing:
        return check("fail", f"finetune_lora finished without final/{', final/'.join(missing)}",
                     seconds=seconds)
    losses = [float(x) for x in re.findall(r"loss train: ([-+0-9.naif]+)", done.stdout + done.stderr)]
    if not losses or not all(math.isfinite(x) for x in losses):
        return check("fail", f"finetune_lora logged no finite training loss: {losses}", seconds=seconds)
    return check("pass", f"{len(losses)} LoRA steps of litgpt finetune_lora on a random 2-layer "
                 f"{spec['model_name']}-architecture model (loss {losses[-1]:.3f}); final/ holds "
                 "the LoRA weights", seconds=seconds, loss=losses[-1], steps=len(losses))


def main(spec_path: str, result_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    tokenizer = Tokenizer(Path(spec["tokenizer_dir"]))
    results: dict[str, dict] = {}
    checkpoint = None
    for expert, export_dir in spec["experts"].items():
        results[expert] = {"litgpt_load": load_check(Path(export_dir), tokenizer, spec)}
        if not spec["lora_step"]:
            continue
        if results[expert]["litgpt_load"]["status"] != "pass":
            results[expert]["litgpt_lora_step"] = check("skipped", "the LitGPT load check failed")
            continue
        checkpoint = checkpoint or tiny_checkpoint(spec, tokenizer)
        results[expert]["litgpt_lora_step"] = lora_step(spec, expert, checkpoint)
    Path(result_path).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
