"""Run configs: YAML files validated with pydantic, with --set dotted overrides.

Errors name the file and the dotted key path. The effective config is saved in the run dir.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, field_validator, model_validator

from synth.errors import ConfigError
from synth.files import read_yaml, validate_model, yaml_problem

# the LLM side (endpoints, budget, engine) lives in synth.llmconfig and the base in synth.strict;
# their names are imported from here as before (re-exported: noqa F401)
from synth.llmconfig import (  # noqa: F401
    BudgetConfig,
    EngineConfig,
    GeneratorConfig,
    JudgeConfig,
    LLMConfig,
)
from synth.strict import Section


class OffTopicConfig(Section):
    """How off_topic is decided (synth/ingest/topic.py). corpus: a segment's mean cosine to its
    `neighbours` nearest other segments of the run (and sparse experts' profiles) is an outlier at a
    robust z <= max_z and below min_cosine, at most max_share of the scored segments; it needs
    the embed extra and min_segments scored segments, else the word list runs. word_list: the
    domain lexicon, dropped when it flags more than word_list_max_share. off: never flagged."""

    method: Literal["corpus", "word_list", "off"] = "corpus"
    neighbours: int = Field(5, ge=1, le=100)
    max_z: float = Field(-3.25, le=0)
    min_cosine: float = Field(0.35, ge=-1, le=1)
    min_segments: int = Field(20, ge=3)
    min_words: int = Field(25, ge=1)  # shorter texts are not scored (too_short takes them)
    max_share: float = Field(0.1, ge=0, le=1)
    profiles: bool = True  # an expert with < `neighbours` segments: its profile text is a neighbour
    word_list_max_share: float = Field(0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _enough_segments(self) -> OffTopicConfig:
        if self.neighbours >= self.min_segments:
            raise ValueError(f"neighbours ({self.neighbours}) must be below min_segments ({self.min_segments})")
        return self


class IngestConfig(Section):
    """Which quality flags make a record unusable (quarantined with the flag as reason)."""

    quarantine_flags: list[str] = Field(default_factory=lambda: [
        "empty_text", "too_short", "too_long", "exact_duplicate", "near_duplicate",
        "non_english", "promo", "off_topic", "duplicate_id", "low_confidence", "prompt_injection",
    ])
    near_dup_threshold: float = Field(0.5, gt=0, le=1)
    off_topic: OffTopicConfig = Field(default_factory=OffTopicConfig)
    max_text_chars: int = Field(200_000, ge=100)
    workers: int = Field(0, ge=0)  # processes for PII redaction (0: one per core; 1: this process only)

    @model_validator(mode="before")
    @classmethod
    def _old_off_topic_key(cls, data: Any) -> Any:
        """ingest.off_topic_max_share (before off_topic:) is off_topic.word_list_max_share."""
        if isinstance(data, dict) and "off_topic_max_share" in data:
            data = dict(data)
            share = data.pop("off_topic_max_share")
            section = data.get("off_topic") or {}
            if isinstance(section, dict):
                data["off_topic"] = {"word_list_max_share": share, **section}
        return data

    @field_validator("quarantine_flags")
    @classmethod
    def _known_flags(cls, v: list[str]) -> list[str]:
        from synth.records import QUALITY_FLAGS

        unknown = sorted(set(v) - set(QUALITY_FLAGS) - {"low_confidence"})
        if unknown:
            raise ValueError(f"unknown flag(s) {', '.join(unknown)}; known: "
                             f"{', '.join((*QUALITY_FLAGS, 'low_confidence'))}")
        return v


class CurateConfig(Section):
    val_fraction: float = Field(0.15, gt=0, lt=1)
    seed: int = 13
    near_dup_threshold: float = Field(0.8, gt=0, le=1)
    semantic_dup_threshold: float = Field(0.95, gt=0, le=1)
    quotas: dict[str, int] = Field(default_factory=dict)  # expert -> max pairs; absent = no cap
    min_pairs_warning: int = 50
    semantic: bool = True  # embedding-cosine dedup (needs the embed extra; else recorded as skipped)
    # generation sets to curate (synth status --json lists them): null = the current config's
    # set, a list of set ids, or "all" to merge every set (each row keeps its set id)
    generations: list[str] | Literal["all"] | None = None

    @field_validator("generations", mode="before")
    @classmethod
    def _generations(cls, value: Any) -> Any:
        if value is not None and value != "all" and not isinstance(value, list):
            raise ValueError(f"a list of generation set ids or 'all' (synth status --json lists "
                             f"them), got {value!r}")
        return value


class ExportConfig(Section):
    # an alias (qwen3, llama3_1), a Hugging Face model id (org/name) or a local model folder
    base_model: str = Field("qwen3", min_length=1)
    tokenizer: str | None = None  # local dir (or hub id when reachable); default: the model's
    max_seq_len: int = Field(4096, ge=64)
    overlength: Literal["drop", "truncate"] = "drop"
    system_prompt: bool = True
    gpu: str = "H100-80GB"
    base_model_id: str | None = None  # hub id for serving and LitGPT download (overrides)
    effective_batch: int = Field(16, ge=1)  # examples per optimizer step in training configs
    adapters_dir: str = "adapters"  # where training writes adapters (<dir>/<expert>), for serving


class ValidateConfig(Section):
    litgpt_venv: str = ".venv-litgpt"
    run_lora_step: bool = True


class ReviewConfig(Section):
    samples_per_expert: int = Field(50, ge=1)
    seed: int = 7
    host: str = "127.0.0.1"
    port: int = 8765


class ChecksConfig(Section):
    """Automated (no-LLM) checks on every pair; thresholds apply without re-judging."""

    min_similarity: float = Field(0.2, ge=-1, le=1)  # question<->answer embedding cosine (a floor)
    # alignment margin: cosine minus the mean of the question's and the answer's k best
    # cosines in the pool (synth.judge.alignment); used once the pool has alignment_min_pool texts
    min_alignment_margin: float = Field(-0.12, ge=-2, le=2)
    alignment_k: int = Field(4, ge=1, le=64)
    alignment_min_pool: int = Field(20, ge=2)
    min_overlap: float = Field(0.05, ge=0, le=1)  # share of question content words in the answer
    question_min_words: int = Field(4, ge=1)
    question_max_words: int = Field(120, ge=2)


class SafetyConfig(Section):
    """Safety policy applied to every judged pair; each exclusion has a named reason."""

    crisis_requires_resources: bool = True  # crisis content kept only when it points to help
    crisis_min_safety_score: int = Field(4, ge=1, le=5)  # judge safety score a crisis pair needs
    exclude_medical_advice: bool = True  # medication/dosage advice beyond a counsellor's scope
    exclude_unsafe_questions: bool = True  # self-harm method, stopping/changing medication
    exclude_judge_flags: list[Literal["self_harm", "medical_advice", "abuse", "other"]] = Field(
        default_factory=lambda: ["self_harm", "medical_advice", "abuse", "other"])
    crisis_resources: list[str] = Field(default_factory=list)  # extra regexes counting as help
    # unsafe advice read for meaning (synth.judge.advice; needs the embed extra)
    unsafe_advice: bool = True
    advice_bank: str = "judges/unsafe_advice.yaml"
    advice_min_similarity: float = Field(0.4, ge=0, le=1)  # cosine with the nearest unsafe exemplar
    advice_min_probability: float = Field(0.8, ge=0, le=1)  # the bank's scorer, per sentence
    advice_min_passages: int = Field(2, ge=1)  # sentences that must hit for the answer to be flagged
    advice_strong_probability: float = Field(0.9, ge=0, le=1)  # ... unless one scores this high
    # ... or sustained: this many sentences (near an unsafe exemplar) each at this probability
    advice_sustained_passages: int = Field(3, ge=1)
    advice_sustained_probability: float = Field(0.7, ge=0, le=1)


class RunConfig(Section):
    run_dir: str = "runs/default"
    inputs: list[str] = Field(default_factory=list)
    field_map: dict[str, str] = Field(default_factory=dict)
    experts: str = "configs/experts.yaml"
    seed: int = 0
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    # where the config file lives; relative paths resolve against the working dir first
    source_path: str | None = Field(None, exclude=True)

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path from the config: absolute, else cwd, else next to the config file."""
        p = Path(path)
        if p.is_absolute() or p.exists() or not self.source_path:
            return p
        beside = Path(self.source_path).parent / p
        return beside if beside.exists() else p


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=c` -> (["a", "b"], yaml-parsed c)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} is not of the form dotted.key=value", key=key or text)
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override value {value!r} is not valid YAML: {yaml_problem(exc)}", key=key) from None
    return key.strip().split("."), parsed


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for text in overrides:
        keys, value = parse_override(text)
        node = data
        for k in keys[:-1]:
            child = node.get(k)
            if child is None:
                child = node[k] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"cannot set {'.'.join(keys)}: {k} is not a mapping", key=".".join(keys))
            node = child
        node[keys[-1]] = value
    return data


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """Load a run config file (or defaults when path is None) and apply overrides."""
    data: Any = {} if path is None else read_yaml(Path(path))
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping", file=str(path))
    data = apply_overrides(data, overrides or [])
    config = validate_model(RunConfig, data, str(path or "<defaults>"))
    config.source_path = str(path) if path else None
    return config


def dump_config(config: RunConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json", by_alias=True), sort_keys=False)
