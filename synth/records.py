"""Every record that crosses a stage boundary. One pydantic type per hand-off.

ingest  -> Segment / QuarantinedRecord
generate-> GenerationSet (generations.jsonl) / Pair / GenerationFailure
judge   -> Judgment (+ CheckResult on the pair)  -> JudgedPair
curate  -> CuratedPair / ExcludedPair
review  -> ReviewDecision
compare -> SetComparison (reports/compare.json)
export  -> ExportManifest
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

QualityFlag = Literal[
    "empty_text", "too_short", "too_long", "exact_duplicate", "near_duplicate",
    "non_english", "transcript_artifacts", "html_entities", "promo", "off_topic", "pii",
    "crisis_content", "bad_timestamps", "confidence_out_of_range", "confidence_missing",
    "duplicate_id",
]
QUALITY_FLAGS: tuple[str, ...] = QualityFlag.__args__  # type: ignore[attr-defined]

SafetyFlagKind = Literal["self_harm", "medical_advice", "abuse", "other"]
Split = Literal["train", "val"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stable_id(*parts: str, length: int = 16) -> str:
    """A short, stable hex id from the given parts (order matters)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


class Record(BaseModel):
    """Base for hand-off records: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# ---------------------------------------------------------------- ingest

class Segment(Record):
    """One usable transcript segment: the answer a question will be written for."""

    segment_id: str
    source_file: str
    record_index: int
    raw_id: str | None = None
    source_id: str  # video id (or title/file when the export has none): the split group
    source_title: str | None = None
    style: str  # expert name after label mapping
    raw_style: str
    confidence: float | None = None  # 0-1
    confidence_scale: Literal["unit", "percent", "missing"] = "unit"
    start_s: float | None = None
    end_s: float | None = None
    text: str  # cleaned: entities unescaped, artifacts stripped, PII redacted
    original_text: str
    flags: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(default_factory=dict)  # placeholder type -> count
    word_count: int = 0


class QuarantinedRecord(Record):
    """An input record that cannot be used, with the named reason."""

    source_file: str
    record_index: int | None = None
    line: int | None = None
    reason: str  # missing_text, empty_text, unknown_style, not_an_object, ...
    field: str | None = None
    message: str
    raw: str | None = None  # a bounded excerpt of the raw record
    flags: list[str] = Field(default_factory=list)  # quality flags seen before quarantine
    style: str | None = None  # expert, when known


# ---------------------------------------------------------------- generate

class RevisionRound(Record):
    """One revise round of a pair: the question before it and the critique that asked for a new
    one (written by the generator); which pair, reasons and rubric asked (added by the judge)."""

    question: str
    critique: str
    prompt_hash: str
    previous_pair_id: str | None = None
    root_pair_id: str | None = None  # the pair in pairs.jsonl the revisions descend from
    reasons: str | None = None  # comma-joined reject reasons of the judged pair
    rubric_hash: str | None = None
    judge_model: str | None = None


class GenerationSet(Record):
    """What makes a generation's questions; `generation_id` is a hash of all of it. A model
    swap in the same run dir is a new set beside the old one (run_dir/generations.jsonl)."""

    generation_id: str
    provider: str
    model: str
    prompts_hash: str  # every prompt template and variation file of the generator
    questions_per_segment: int
    temperature: float
    max_tokens: int
    extra_body: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0  # the run's seed
    generator_seed: int = 0
    created_at: str = Field(default_factory=utc_now)


class Pair(Record):
    """A generated question with the segment that answers it."""

    pair_id: str
    segment_id: str
    source_id: str
    expert: str
    question: str
    answer: str  # the cleaned segment text, verbatim
    question_type: str
    persona: str | None = None
    concepts: list[str] = Field(default_factory=list)
    generator: str  # provider name, e.g. offline / vllm / openai
    generator_model: str
    prompt_hash: str
    seed: int = 0
    revision: int = 0  # 0 = first draft; n = nth revision after judge critique
    revision_history: list[RevisionRound] = Field(default_factory=list)
    segment_flags: list[str] = Field(default_factory=list)
    confidence: float | None = None
    created_at: str = Field(default_factory=utc_now)
    generation: str | None = None  # GenerationSet id (None: a pair from before generation sets)


class GenerationFailure(Record):
    """A segment whose generation failed after retries; never dropped silently."""

    segment_id: str
    expert: str
    reason: str  # validation_failed, truncated, timeout, budget_exhausted, http_5xx, ...
    error: str
    attempts: int = 1
    prompt_hash: str | None = None
    at: str = Field(default_factory=utc_now)
    generation: str | None = None  # GenerationSet id


# ---------------------------------------------------------------- judge

class CriterionScore(Record):
    score: int
    rationale: str


class SafetyFlag(Record):
    kind: SafetyFlagKind
    quote: str


class Judgment(Record):
    """One judge verdict for one pair under one rubric hash and judge model."""

    pair_id: str
    rubric_id: str
    rubric_version: str
    rubric_hash: str
    judge_model: str
    status: Literal["ok", "failed"]
    scores: dict[str, CriterionScore] = Field(default_factory=dict)
    safety_flags: list[SafetyFlag] = Field(default_factory=list)
    error: str | None = None
    at: str = Field(default_factory=utc_now)
    input_hash: str = ""  # hash of the pair as the judge saw it (question, answer, expert profile)


class CheckResult(Record):
    """One automated (no-LLM) check on a pair."""

    name: str  # alignment, lexical_overlap, safety_screen, formatting
    score: float | None  # None only when skipped (never a made-up value)
    passed: bool  # a skipped check does not block acceptance
    reason: str
    skipped: bool = False  # e.g. alignment without the embed extra; reason says why
    details: dict[str, float] = Field(default_factory=dict)  # e.g. alignment's cosine and margin


class JudgedPair(Record):
    """A pair with its current judgment, its automated checks and the accept decision."""

    pair: Pair
    judgment: Judgment | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    accepted: bool
    reasons: list[str] = Field(default_factory=list)  # named reasons when not accepted


# ---------------------------------------------------------------- review / curate

class ReviewDecision(Record):
    pair_id: str
    decision: Literal["accept", "reject"]
    note: str = ""
    reviewer: str = "reviewer"
    at: str = Field(default_factory=utc_now)


class CuratedPair(Record):
    """A pair that goes to training, with its split."""

    pair: Pair
    split: Split
    scores: dict[str, float] = Field(default_factory=dict)


class ExcludedPair(Record):
    """A pair that does not go to training, with the named reason."""

    pair_id: str
    expert: str
    reason: str  # below_threshold:<criterion>, exact_duplicate, near_duplicate, ...
    detail: str = ""


# ---------------------------------------------------------------- compare

class SetMetrics(Record):
    """What one generation set (or one expert's part of it) gave, on the compared segments."""

    pairs: int = 0
    judged: int = 0  # pairs with an ok judgment in judged.jsonl
    accepted: int = 0
    accept_rate: float | None = None  # accepted / judged (None: nothing judged)
    mean_scores: dict[str, float] = Field(default_factory=dict)  # criterion -> mean judge score
    failed: int = 0  # segments whose generation failed for good
    spend_usd: float = 0.0  # generation spend (the set: its ledger stage; an expert: call log)
    cost_per_accepted_usd: float | None = None
    distinct_bigrams: float | None = None  # distinct-2 of the questions (unique / all bigrams)
    embedding_distance: float | None = None  # mean cosine distance between a segment's questions
    question_words: float | None = None  # mean question length in words


class SetComparison(SetMetrics):
    """`synth compare`: one generation set beside the others, overall and per expert."""

    id: str
    provider: str
    model: str
    segments: int = 0  # segments compared (those every set attempted)
    experts: dict[str, SetMetrics] = Field(default_factory=dict)


# ---------------------------------------------------------------- export

class ExportManifest(Record):
    base_model: str
    tokenizer_hash: str
    max_seq_len: int
    experts: dict[str, dict[str, int]]  # expert -> {train, val, tokens, ...}
    files: dict[str, str]  # relative path -> sha256
    input_hashes: dict[str, str] = Field(default_factory=dict)
    created_at: str = Field(default_factory=utc_now)
    base_model_id: str = ""  # hub id the configs and serving command use
    tokenizer: str = ""  # where the tokenizer was loaded from
    model_type: str = ""  # config.json model_type of the base model
    template_kwargs: dict[str, bool] = Field(default_factory=dict)  # chat template kwargs (reasoning off)
    litgpt: dict[str, str] = Field(default_factory=dict)  # repo_id, checkpoint_dir, prompt_style, version
    token_stats: dict[str, dict[str, float]] = Field(default_factory=dict)  # expert -> figures
    excluded: dict[str, int] = Field(default_factory=dict)  # reason -> pairs not exported
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- train


class TrainConfigFile(Record):
    """export/<expert>/config/trl.yaml: what `synth train` and `synth validate` run."""

    base_model: str  # hub id or local folder the real model loads from
    expert: str
    data_files: dict[str, str]  # split -> packed parquet, relative to the export folder
    jsonl_files: dict[str, str] = Field(default_factory=dict)  # the same pairs as TRL JSONL
    jsonl_sft: dict[str, object] = Field(default_factory=dict)  # sft overrides for jsonl_files
    lora: dict[str, object]  # peft.LoraConfig kwargs
    sft: dict[str, object]  # trl.SFTConfig kwargs
    expected_optimizer_steps: int = 0
    memory: dict[str, object] = Field(default_factory=dict)  # synth.export.memory plan


class TrainResult(Record):
    """One `synth train` run of one expert (reports/train_<expert>.{json,html})."""

    expert: str
    base_model: str
    model_kind: Literal["base", "tiny"]  # the real weights, or the tiny random CPU model
    device: str
    adapter_dir: str
    steps: int
    train_loss: list[tuple[int, float]] = Field(default_factory=list)  # (step, loss)
    eval_loss: list[tuple[int, float]] = Field(default_factory=list)  # (step, val loss)
    figures: dict[str, float] = Field(default_factory=dict)  # tokens, seconds, tokens/s, ...
    adapter_problems: list[str] = Field(default_factory=list)  # why vLLM would refuse it
    settings: dict[str, object] = Field(default_factory=dict)  # the SFTConfig values used
    accelerate_command: str = ""
    created_at: str = Field(default_factory=utc_now)


# ---------------------------------------------------------------- validate / router

CheckStatus = Literal["pass", "fail", "skipped"]


class ValidationCheck(Record):
    """One validation gate for one expert: trainer load, LoRA step, adapter, voice."""

    expert: str
    check: str  # trl_lora_step, adapter_servable, litgpt_load, litgpt_lora_step, voice, ids_match
    status: CheckStatus
    detail: str = ""
    figures: dict[str, float] = Field(default_factory=dict)


class ValidationReport(Record):
    run_dir: str
    base_model: str
    tokenizer: str | None = None
    checks: list[ValidationCheck] = Field(default_factory=list)
    created_at: str = Field(default_factory=utc_now)

    @property
    def failed(self) -> list[ValidationCheck]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, object]:
        """The figures `synth run` prints for the validate stage."""
        statuses = [c.status for c in self.checks]
        return {"passed": self.passed, "checks": len(statuses), "failed": statuses.count("fail"),
                "skipped": statuses.count("skipped")}


class RouterMetrics(Record):
    """The expert router's held-out figures (router/metrics.json)."""

    featurizer: Literal["minilm", "tfidf"]
    labels: list[str]
    train_count: int
    val_count: int
    accuracy: float | None = None  # None when val is empty
    macro_f1: float | None = None
    confusion: list[list[int]] = Field(default_factory=list)  # rows: true label, cols: predicted
    per_label_f1: dict[str, float] = Field(default_factory=dict)
    created_at: str = Field(default_factory=utc_now)
