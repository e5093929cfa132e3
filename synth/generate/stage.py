"""generate: segments -> pairs. For each usable segment the generator extracts its key concepts,
then writes K questions (generator.questions_per_segment) of planned, varied type, persona,
voice and length that the segment answers well, in the style of the segment's expert.

Results are appended to pairs.jsonl / failures.jsonl as they complete, so a kill loses only
the calls in flight. A rerun skips segments that already hold pairs or a final failure
(content failures; transient ones such as 5xx or timeouts are tried again) and answers
cached requests from the cache. When the budget cap stops the run, BudgetExceeded says how
many segments are left and what they would cost (the summary is on `exc.summary`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from synth.config import RunConfig
from synth.errors import BudgetExceeded, StageFailed
from synth.experts import ExpertSet, load_experts
from synth.files import JsonlAppender, read_jsonl
from synth.generate.offline import OfflineQuestionWriter
from synth.generate.prompts import GenerationPrompts, QuestionSetBase, Slot, question_set_model
from synth.llm import LLMEngine, LLMRequest, LLMResult, LLMServices, make_engine, run_batch
from synth.records import GenerationFailure, Pair, Segment, stable_id, utc_now
from synth.rundir import RunDir

# failures a rerun does not try again (the same request would fail the same way)
FINAL_REASONS = frozenset({"validation_failed", "truncated", "refusal", "prompt_too_long",
                           "unknown_expert"})
TYPICAL_TOKENS_PER_QUESTION = 45  # for the typical-cost estimate; the worst case uses max_tokens


class CostEstimate(BaseModel):
    segments: int = 0
    cached: int = 0  # answered from the cache: cost 0
    prompt_tokens: int = 0  # of the requests that would be sent (with the safety margin)
    worst_case_usd: float = 0.0  # what the budget reserves: prompt + max_tokens per request
    typical_usd: float = 0.0  # prompt + a typical answer length


class GenerateSummary(BaseModel):
    segments: int = 0
    already_done: int = 0  # skipped: pairs or a final failure from an earlier run
    attempted: int = 0
    segments_ok: int = 0
    pairs_written: int = 0
    failed: int = 0
    failures: dict[str, int] = Field(default_factory=dict)
    cached: int = 0
    calls: int = 0
    spend_usd: float = 0.0  # settled spend of this run
    total_spend_usd: float = 0.0  # the run dir's whole ledger (every run, every stage)
    budget_exhausted: bool = False
    remaining_segments: int = 0
    remaining: CostEstimate | None = None  # what the remaining segments would cost
    dry_run: bool = False
    estimate: CostEstimate | None = None  # --dry-run: what this run would cost
    batch_seconds: float = 0.0  # time spent in the LLM batch itself


@dataclass
class Job:
    segment: Segment
    slots: list[Slot]
    request: LLMRequest
    prompt_hash: str


@dataclass
class _Sink:
    """Turns results into pairs/failures and appends them as they come."""

    config: RunConfig
    jobs: dict[str, Job]
    pairs: JsonlAppender
    failures: JsonlAppender
    handled: set[str] = field(default_factory=set)
    pairs_written: int = 0

    def __call__(self, result: LLMResult) -> None:
        job = self.jobs[result.item_id]
        if result.status == "skipped_budget":
            return
        self.handled.add(result.item_id)
        if result.status == "ok" and isinstance(result.value, QuestionSetBase):
            for pair in make_pairs(self.config, job, result.value):
                self.pairs.append(pair)
                self.pairs_written += 1
        else:
            self.failures.append(GenerationFailure(
                segment_id=job.segment.segment_id, expert=job.segment.style,
                reason=result.reason or "failed", error=result.error or "", attempts=result.attempts,
                prompt_hash=job.prompt_hash))


def make_pairs(config: RunConfig, job: Job, value: QuestionSetBase) -> list[Pair]:
    seg, gen = job.segment, config.generator
    concepts, now = list(value.concepts), utc_now()
    pairs = []
    for slot, question in zip(job.slots, value.questions):
        pairs.append(Pair(
            pair_id=stable_id(seg.segment_id, question), segment_id=seg.segment_id,
            source_id=seg.source_id, expert=seg.style, question=question, answer=seg.text,
            question_type=slot.question_type, persona=slot.persona, concepts=concepts,
            generator=gen.provider, generator_model=gen.model, prompt_hash=job.prompt_hash,
            seed=job.request.seed or 0, segment_flags=list(seg.flags), confidence=seg.confidence,
            created_at=now))
    return pairs


def segment_seed(config: RunConfig, segment_id: str) -> int:
    return int(stable_id(str(config.seed), str(config.generator.seed), segment_id, length=8), 16)


def build_job(config: RunConfig, prompts: GenerationPrompts, experts: ExpertSet, seg: Segment) -> Job:
    expert = experts.get(seg.style)
    seed = segment_seed(config, seg.segment_id)
    slots = prompts.plan(expert, config.generator.questions_per_segment, f"{seed}")
    offline = config.generator.provider == "offline"
    prompt_hash = prompts.prompt_hash(expert.name, offline=offline)
    messages = [] if offline else prompts.generation_messages(expert, seg.text, slots)
    inputs = {"kind": "generate", "expert": expert.name, "text": seg.text,
              "slots": [s.__dict__ for s in slots]} if offline else {}
    request = LLMRequest(item_id=seg.segment_id, messages=messages, template_hash=prompt_hash,
                         seed=seed, offline_inputs=inputs)
    return Job(seg, slots, request, prompt_hash)


def finished_segments(run: RunDir, retry_failed: bool = False) -> set[str]:
    """Segments a rerun skips: those holding pairs, and those with a final failure."""
    done = {pair.segment_id for pair in read_jsonl(run.pairs, Pair)}
    if not retry_failed:
        done |= {f.segment_id for f in read_jsonl(run.failures, GenerationFailure)
                 if f.reason in FINAL_REASONS}
    return done


def estimate_cost(engine: LLMEngine, jobs: list[Job], k: int) -> CostEstimate:
    model, cfg = question_set_model(k), engine.config
    est = CostEstimate(segments=len(jobs))
    if engine.is_offline:
        return est  # no model, no cost
    typical_out = min(cfg.max_tokens, TYPICAL_TOKENS_PER_QUESTION * (k + 1))
    for job in jobs:
        if engine.is_cached(job.request, model):
            est.cached += 1
            continue
        worst = engine.worst_case_usd(job.request.messages)
        prompt = engine.prompt_tokens(job.request.messages)
        est.prompt_tokens += prompt
        est.worst_case_usd += worst
        est.typical_usd += (prompt * cfg.price_in_per_mtok + typical_out * cfg.price_out_per_mtok) / 1e6
    return est


def run_generate(config: RunConfig, run: RunDir, segments: list[Segment], *, dry_run: bool = False,
                 retry_failed: bool = False, progress: bool = True) -> GenerateSummary:
    """Generate pairs for every segment not done yet (see the module docstring)."""
    experts = load_experts(config.resolve(config.experts))
    prompts = GenerationPrompts.load(config, experts)
    done = finished_segments(run, retry_failed)
    summary = GenerateSummary(segments=len(segments), dry_run=dry_run)
    pending, unknown, seen = [], [], set(done)
    for seg in segments:
        if seg.segment_id in seen:
            summary.already_done += seg.segment_id in done
            continue
        seen.add(seg.segment_id)
        (pending if seg.style in experts.names else unknown).append(seg)
    jobs = [build_job(config, prompts, experts, seg) for seg in pending]
    summary = asyncio.run(_generate(config, run, prompts, jobs, unknown, summary, dry_run, progress))
    if summary.budget_exhausted:
        raise _budget_error(config, summary)
    if summary.attempted and not summary.segments_ok:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(summary.failures.items()))
        raise StageFailed(f"every one of {summary.attempted} attempted segment(s) failed ({reasons}); "
                          f"see {run.failures}; rerun to retry transient failures")
    return summary


async def _generate(config: RunConfig, run: RunDir, prompts: GenerationPrompts, jobs: list[Job],
                    unknown: list[Segment], summary: GenerateSummary, dry_run: bool,
                    progress: bool) -> GenerateSummary:
    services = LLMServices(run, config.budget)
    try:  # engine.kind ray: the HTTP calls go to Ray workers (synth.llm.ray_dispatch)
        engine = make_engine(config.generator, services, config.engine, stage="generate",
                             connect=not dry_run, offline=OfflineQuestionWriter(prompts))
    except BaseException:
        services.close()
        raise
    k = config.generator.questions_per_segment
    try:
        if dry_run:
            summary.estimate = estimate_cost(engine, jobs, k)
        else:
            await _run_jobs(config, run, engine, jobs, unknown, summary, k, progress)
        summary.total_spend_usd = services.ledger.committed()
    finally:
        await engine.aclose()
        services.close()
    return summary


async def _run_jobs(config: RunConfig, run: RunDir, engine: LLMEngine, jobs: list[Job],
                    unknown: list[Segment], summary: GenerateSummary, k: int, progress: bool) -> None:
    by_id = {job.segment.segment_id: job for job in jobs}
    with JsonlAppender(run.pairs) as pairs, JsonlAppender(run.failures) as failures:
        for seg in unknown:
            error = f"style {seg.style!r} is not an expert in {config.experts}"
            failures.append(GenerationFailure(segment_id=seg.segment_id, expert=seg.style,
                                              reason="unknown_expert", error=error))
        sink = _Sink(config, by_id, pairs, failures)
        batch = await run_batch(engine, (job.request for job in jobs), question_set_model(k), sink,
                                total=len(jobs), description="generate", progress=progress)
    left = [job for job in jobs if job.segment.segment_id not in sink.handled]
    summary.attempted = len(sink.handled)
    summary.segments_ok, summary.failed = batch.ok, batch.failed + len(unknown)
    summary.failures = {**batch.failures, **({"unknown_expert": len(unknown)} if unknown else {})}
    summary.pairs_written, summary.cached, summary.calls = sink.pairs_written, batch.cached, batch.calls
    summary.spend_usd, summary.batch_seconds = batch.spend_usd, round(batch.elapsed_s, 3)
    summary.budget_exhausted = batch.stopped == "budget"
    summary.remaining_segments = len(left)
    if left:
        summary.remaining = estimate_cost(engine, left, k)


def _budget_error(config: RunConfig, summary: GenerateSummary) -> BudgetExceeded:
    left = summary.remaining or CostEstimate()
    error = BudgetExceeded(
        f"budget cap ${config.budget.max_usd:.2f} reached (committed ${summary.total_spend_usd:.4f}); "
        f"{summary.remaining_segments} segment(s) left, about ${left.typical_usd:.4f} to finish "
        f"(worst case ${left.worst_case_usd:.4f}). Pairs so far are saved: raise budget.max_usd "
        "and rerun the same command to resume.")
    error.summary = summary  # type: ignore[attr-defined]
    return error
