"""Every record that crosses a stage boundary. One pydantic type per hand-off.

ingest  -> Segment / QuarantinedRecord
generate-> Pair / GenerationFailure
judge   -> Judgment (+ CheckResult on the pair)  -> JudgedPair
curate  -> CuratedPair / ExcludedPair
review  -> ReviewDecision
export  -> ExportManifest
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

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

    model_config = ConfigDict(extra="forbid")


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


class GenerationFailure(Record):
    """A segment whose generation failed after retries; never dropped silently."""

    segment_id: str
    expert: str
    reason: str  # validation_failed, truncated, timeout, budget_exhausted, http_5xx, ...
    error: str
    attempts: int = 1
    prompt_hash: str | None = None
    at: str = Field(default_factory=utc_now)


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
    token_stats: dict[str, dict[str, float]] = Field(default_factory=dict)  # expert -> figures
    excluded: dict[str, int] = Field(default_factory=dict)  # reason -> pairs not exported
    warnings: list[str] = Field(default_factory=list)


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
