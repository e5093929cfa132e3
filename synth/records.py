"""Every record that crosses a stage boundary. One pydantic type per hand-off.

ingest  -> Segment / QuarantinedRecord
generate-> GenerationSet (generations.jsonl) / Pair / GenerationFailure
judge   -> Judgment (+ CheckResult on the pair)  -> JudgedPair
curate  -> CuratedPair / ExcludedPair
review  -> ReviewDecision
compare -> SetComparison (reports/compare.json)
export  -> ExportManifest, train -> TrainResult, validate -> ValidationReport,
          router -> RouterMetrics (defined in synth.modelrecords, imported from here)
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

# the model side (export, train, validate, router) lives in synth.modelrecords and the base in
# synth.strict; their names are imported from here as before (re-exported: noqa F401)
from synth.modelrecords import (  # noqa: F401
    CheckStatus,
    ExportManifest,
    RouterMetrics,
    TrainConfigFile,
    TrainResult,
    ValidationCheck,
    ValidationReport,
)
from synth.strict import Record, stable_id, utc_now  # noqa: F401

QualityFlag = Literal[
    "empty_text", "too_short", "too_long", "exact_duplicate", "near_duplicate",
    "prompt_injection", "non_english", "transcript_artifacts", "html_entities", "promo", "off_topic", "pii",
    "crisis_content", "bad_timestamps", "confidence_out_of_range", "confidence_missing",
    "duplicate_id",
]
QUALITY_FLAGS: tuple[str, ...] = QualityFlag.__args__  # type: ignore[attr-defined]

SafetyFlagKind = Literal["self_harm", "medical_advice", "abuse", "other"]
Split = Literal["train", "val"]


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


# failure reasons a rerun does not try again (the same request would fail the same way), unless
# asked to (`--retry-failed`)
FINAL_FAILURES = frozenset({"validation_failed", "truncated", "refusal", "prompt_too_long",
                            "unknown_expert"})


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
    judged: int = 0  # pairs with an ok judgment of the compared judge in judged.jsonl
    other_judge: int = 0  # pairs whose verdict in judged.jsonl is another judge's (never shown)
    accepted: int = 0
    accept_rate: float | None = None  # accepted / judged (None: nothing judged)
    mean_scores: dict[str, float] = Field(default_factory=dict)  # criterion -> mean judge score
    failed: int = 0  # segments whose generation failed for good
    spend_usd: float = 0.0  # generation spend on the compared segments (the call log)
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
    judge: str = ""  # the config's judge, whose verdicts alone are counted (judgments.sqlite name)
    rubric: str = ""  # its rubric: id, version and hash
    experts: dict[str, SetMetrics] = Field(default_factory=dict)
