"""Check: the quick start's outputs are the same in another checkout (e.g. main before a change)
and in this one, cold and with the machine's vector store warm.

    git worktree add /tmp/base <commit>
    .venv/bin/python bench/bench_quickstart_same.py /tmp/base

Runs `synth run configs/example.yaml --until export` (offline generator and judge) three times,
each into its own run dir: in BASE (its own code, this venv, its own empty machine stores),
then here twice on one other set of empty stores (cold, rerun). Prints per run: accepted
pairs, curated train/val/excluded counts,
a hash of each (segment, expert, question and answer of each pair), a hash of the packed
files' sizes and of the manifest's packed counts, and the texts each stage encoded; then
whether all three agree.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def run(tree: Path, run_dir: Path, env: dict[str, str]) -> dict[str, object]:
    command = [sys.executable, "-c", "from synth.cli import run; run()", "run", "configs/example.yaml",
               "--set", f"run_dir={run_dir}", "--until", "export", "--json"]
    done = subprocess.run(command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{tree}: synth run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    stages = json.loads(done.stdout)["stages"]
    judged = [json.loads(line) for line in (run_dir / "judged.jsonl").read_text().splitlines() if line]
    accepted = sorted(_pair(j) for j in judged if j.get("accepted"))
    curated = {s: sorted(_pair(json.loads(line)) for line in (run_dir / "curated" / f"{s}.jsonl").read_text()
                         .splitlines() if line) for s in ("train", "val", "excluded")}
    packed = {p.split("/export/")[1]: os.path.getsize(p) for p in sorted(glob.glob(f"{run_dir}/export/*/packed/*"))}
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    counts = sorted(f"{k}={v}" for k, v in _walk(manifest) if k.startswith("packed_rows"))
    return {"accepted": (len(accepted), digest(accepted)),
            "curated": {s: (len(v), digest(v)) for s, v in curated.items()},
            "packed": (digest(packed), digest(counts)),
            "encoded": {s["name"]: s["summary"].get("texts_encoded") for s in stages
                        if "texts_encoded" in s.get("summary", {})}}


def _pair(record: dict) -> tuple[str, str, str, str]:
    """What a pair is, without run-dependent fields (timestamps, run paths)."""
    pair = record.get("pair", record)
    return (pair.get("segment_id", ""), pair.get("expert", ""), pair.get("question", ""), pair.get("answer", ""))


def _walk(value: object, key: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def fresh_env(cache: Path) -> dict[str, str]:
    """An environment whose machine stores (vectors, screens, redactions) start empty: its own
    SYNTH_CACHE_DIR holding only a copy of the exported encoders (not made again)."""
    from synth.text.encoder import cache_dir

    shutil.copytree(cache_dir() / "encoders", cache / "encoders")
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "SYNTH_CACHE_DIR": str(cache),
            "SYNTH_VECTOR_STORE": str(cache / "vectors.sqlite")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="another checkout of synth (a git worktree)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quickstart_same_") as tmp:
        results = {"base": run(args.base.resolve(), Path(tmp) / "base", fresh_env(Path(tmp) / "cache-base"))}
        env = fresh_env(Path(tmp) / "cache-this")  # cold, then the rerun on the same stores
        results["this, cold"] = run(ROOT, Path(tmp) / "cold", env)
        results["this, rerun"] = run(ROOT, Path(tmp) / "rerun", env)
    for name, result in results.items():
        print(f"{name:12} {result}")
    same = len({json.dumps({k: v for k, v in r.items() if k != "encoded"}) for r in results.values()}) == 1
    print("accepted set, curated split and packed counts:", "the same in all three" if same else "DIFFERENT")


if __name__ == "__main__":
    main()
