"""Generation sets: which generator made a pair, so that a model swap adds a set beside the old.

A set is identified by everything that makes its questions: provider, model, the hash of the
generator's prompt templates and variation file, questions per segment, sampling parameters
(temperature, max_tokens, extra_body) and the seeds. `synth generate` writes the current
config's set (registered in run_dir/generations.jsonl), skips only that set's finished
segments, and stamps every pair and failure with the set id. Pairs made before sets existed
have no id; they count as the set LEGACY and are always selected downstream.

Curate and export use the current config's set, or those in `curate.generations` (`all`).
"""
from __future__ import annotations

import json

from synth.config import RunConfig
from synth.errors import ConfigError
from synth.experts import load_experts
from synth.files import JsonlAppender, read_jsonl
from synth.generate.prompts import GenerationPrompts
from synth.hashing import content_hash
from synth.records import GenerationSet, Pair, stable_id
from synth.rundir import RunDir

LEGACY = "legacy"  # pairs without a set id (made before generation sets)


def prompts_hash(prompts: GenerationPrompts, offline: bool) -> str:
    """One hash over every template file that shapes this generator's requests."""
    parts = [prompts.prompt_hash(name, offline=offline) for name in sorted(prompts.experts.names)]
    return content_hash("|".join([*parts, prompts.revise_hash()]))


def generation_set(config: RunConfig, prompts: GenerationPrompts) -> GenerationSet:
    """The set the current config writes."""
    gen = config.generator
    values = {"provider": gen.provider, "model": gen.model,
              "prompts_hash": prompts_hash(prompts, gen.provider == "offline"),
              "questions_per_segment": gen.questions_per_segment, "temperature": gen.temperature,
              "max_tokens": gen.max_tokens, "extra_body": gen.extra_body, "seed": config.seed,
              "generator_seed": gen.seed}
    key = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return GenerationSet(generation_id=stable_id("generation", key, length=12), **values)


def current_generation(config: RunConfig) -> GenerationSet:
    """The current config's set (loads the experts file and the prompt templates)."""
    experts = load_experts(config.resolve(config.experts))
    return generation_set(config, GenerationPrompts.load(config, experts))


def load_sets(run: RunDir) -> dict[str, GenerationSet]:
    """The run's registered sets by id, in the order they were first written."""
    return {s.generation_id: s for s in read_jsonl(run.generations, GenerationSet)}


def register(run: RunDir, gen_set: GenerationSet) -> bool:
    """Record the set in generations.jsonl unless it is there; True when it is new."""
    if gen_set.generation_id in load_sets(run):
        return False
    with JsonlAppender(run.generations) as out:
        out.append(gen_set)
    return True


def set_id(pair: Pair) -> str:
    return pair.generation or LEGACY


def selected_generations(config: RunConfig, run: RunDir) -> set[str] | None:
    """The set ids curate and export use: None for all; LEGACY pairs are always in."""
    chosen = config.curate.generations
    if chosen == "all":
        return None
    if chosen is None:
        return {current_generation(config).generation_id, LEGACY}
    known = set(load_sets(run))
    unknown = sorted(set(chosen) - known - {LEGACY})
    if unknown:
        raise ConfigError(f"unknown generation set(s) {', '.join(unknown)}; this run has "
                          f"{', '.join(sorted(known)) or 'none'} (see `synth status --json`)",
                          key="curate.generations")
    return {*chosen, LEGACY}
