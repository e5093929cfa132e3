"""The export manifest: the hashes of what an export came from (written by export) and reading
export/manifest.json back (what train and validate start from)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from synth.config import RunConfig, dump_config
from synth.errors import InputError, SynthError
from synth.hashing import content_hash
from synth.records import CuratedPair, ExportManifest
from synth.rundir import RunDir

if TYPE_CHECKING:
    from synth.export.chat import ChatTokenizer


def load_manifest(run: RunDir, missing: type[SynthError]) -> ExportManifest:
    """The run's export manifest; `missing` is raised (by the caller's stage) when there is no
    export yet, InputError naming the file when it is not a valid manifest."""
    path = run.manifest
    if not path.exists():
        raise missing(f"no export manifest at {path}: run `synth export` first")
    try:
        return ExportManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise InputError(f"invalid ExportManifest: {exc.errors()[0]['msg']}", file=str(path)) from None


def exported_experts(run: RunDir, missing: type[SynthError]) -> list[str]:
    """The experts the run's export holds; `missing` as in load_manifest."""
    return sorted(load_manifest(run, missing).experts)


def input_hashes(
    config: RunConfig, curated: Sequence[CuratedPair], chat: ChatTokenizer
) -> dict[str, str]:
    """Hashes of what the export came from: pairs, config, experts, prompts, rubric, tokenizer."""
    hashes = {
        "curated_pairs": content_hash("\n".join(c.model_dump_json() for c in curated)),
        "config": content_hash(dump_config(config)),
        "tokenizer": chat.hash,
        "pair_prompt_hashes": ",".join(sorted({c.pair.prompt_hash for c in curated})),
    }
    named = {
        "experts": config.resolve(config.experts),
        "rubric": config.resolve(config.judge.rubric),
    }
    prompts = config.resolve(config.generator.prompts_dir)
    if prompts.is_dir():
        named.update({f"prompt:{p.name}": p for p in sorted(prompts.iterdir()) if p.is_file()})
    hashes.update(
        {key: content_hash(path.read_bytes()) for key, path in named.items() if path.is_file()}
    )
    return hashes
