"""generate: segments -> pairs. For each usable segment the generator extracts its key concepts,
then writes K questions (generator.questions_per_segment) of planned, varied persona, voice
and length that the segment answers well, in the style of the segment's expert; the generator
chooses each question's type among the expert's types that the segment supports.

The pairs belong to the current config's generation set (synth.generate.sets): a model swap in
the same run dir writes a new set beside the old one. Results are appended to pairs.jsonl /
failures.jsonl as they complete, so a kill loses only the calls in flight. A rerun skips the
set's segments that already hold pairs for the segment's current text or a final failure
(content failures; transient ones such as 5xx or timeouts are tried again) and answers cached
requests from the cache. When a budget cap stops the run, BudgetExceeded says how many
segments are left and what they would cost (the summary is on `exc.summary`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from synth.config import GeneratorConfig, RunConfig
from synth.errors import StageFailed
from synth.experts import ExpertSet, load_experts
from synth.files import JsonlAppender, read_jsonl
from synth.generate.estimate import CostEstimate, budget_error, estimate_cost
from synth.generate.offline import OfflineQuestionWriter
from synth.generate.prompts import GenerationPrompts, QuestionSetBase, Slot, question_chars, question_set_model
from synth.generate.sets import generation_set, load_sets, register
from synth.llm import LLMEngine, LLMRequest, LLMResult, LLMServices, make_engine, run_batch
from synth.records import FINAL_FAILURES, GenerationFailure, GenerationSet, Pair, Segment, stable_id, utc_now
from synth.rundir import RunDir
from synth.status import retry_hint


class GenerateSummary(BaseModel):
    generation: str = ""  # the set this run wrote (synth.generate.sets)
    model: str = ""
    new_generation: bool = False  # the set did not exist in this run dir before
    other_generations: int = 0  # other sets already in the run dir (left as they are)
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
    run_spend_usd: float = 0.0  # settled spend of the run dir's whole ledger (every run, every stage)
    budget_exhausted: bool = False
    remaining_segments: int = 0
    remaining: CostEstimate | None = None  # what the remaining segments would cost
    dry_run: bool = False
    estimate: CostEstimate | None = None  # --dry-run: what this run would cost
    batch_seconds: float = 0.0  # time spent in the LLM batch itself
    run_tokens: int = 0  # settled tokens of the run dir's whole ledger (what `synth status` prints)
    run_open_usd: float = 0.0  # open reservations in the ledger (calls killed mid-flight), apart
    run_open_tokens: int = 0
    replicas_out: dict[str, int] = Field(default_factory=dict)  # replica url -> times taken out
    failed_for_good: dict[str, int] = Field(default_factory=dict)  # reason -> segments a rerun skips
    retry_hint: str = ""  # "N segments failed for good (...); rerun with --retry-failed"


@dataclass
class Job:
    segment: Segment
    slots: list[Slot]
    request: LLMRequest
    prompt_hash: str
    types: tuple[str, ...]  # the expert's question types (the generator picks among them)
    generation: str = ""
    max_tokens: int | None = None  # the schema's strings are sized from it (None: offline, unsized)


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
            for pair in make_pairs(self.config.generator, job, result.value):
                self.pairs.append(pair)
                self.pairs_written += 1
        else:
            self.failures.append(GenerationFailure(
                segment_id=job.segment.segment_id, expert=job.segment.style,
                reason=result.reason or "failed", error=result.error or "", attempts=result.attempts,
                prompt_hash=job.prompt_hash, generation=job.generation))


def make_pairs(gen: GeneratorConfig, job: Job, value: QuestionSetBase) -> list[Pair]:
    seg = job.segment
    concepts, now = list(value.concepts), utc_now()
    pairs = []
    for slot, item in zip(job.slots, value.questions):
        pairs.append(Pair(
            pair_id=stable_id(seg.segment_id, item.question, job.generation),
            segment_id=seg.segment_id, source_id=seg.source_id, expert=seg.style,
            question=item.question, answer=seg.text, question_type=item.question_type,
            persona=slot.persona, concepts=concepts, generator=gen.provider,
            generator_model=gen.model, prompt_hash=job.prompt_hash, seed=job.request.seed or 0,
            segment_flags=list(seg.flags), confidence=seg.confidence, created_at=now,
            generation=job.generation))
    return pairs


def segment_seed(run_seed: int, gen: GeneratorConfig, segment_id: str) -> int:
    return int(stable_id(str(run_seed), str(gen.seed), segment_id, length=8), 16)


def build_job(gen: GeneratorConfig, run_seed: int, prompts: GenerationPrompts, experts: ExpertSet,
              seg: Segment, generation: str = "") -> Job:
    """One segment's request: its slots (question plan) and messages, seeded per segment."""
    expert = experts.get(seg.style)
    seed = segment_seed(run_seed, gen, seg.segment_id)
    slots = prompts.plan(expert, gen.questions_per_segment, f"{seed}")
    offline = gen.provider == "offline"
    prompt_hash = prompts.prompt_hash(expert.name, offline=offline)
    messages = [] if offline else prompts.generation_messages(expert, seg.text, slots)
    types = tuple(expert.question_types)
    inputs = {"kind": "generate", "expert": expert.name, "text": seg.text, "types": list(types),
              "slots": [s.__dict__ for s in slots]} if offline else {}
    request = LLMRequest(item_id=seg.segment_id, messages=messages, template_hash=prompt_hash,
                         seed=seed, offline_inputs=inputs)
    return Job(seg, slots, request, prompt_hash, types, generation, None if offline else gen.max_tokens)


def finished_segments(run: RunDir, generation: str, texts: dict[str, str],
                      retry_failed: bool = False) -> set[str]:
    """Segments of this set a rerun skips: those holding pairs made from the segment's current
    text (`texts`: segment id -> text), and those whose last failure is final."""
    done, last = _set_state(run, generation, texts)
    return done if retry_failed else done | {s for s, r in last.items() if r in FINAL_FAILURES}


def failed_for_good(run: RunDir, generation: str, texts: dict[str, str]) -> dict[str, int]:
    """reason -> segments of this set without pairs whose last failure is final."""
    if not any(f.generation == generation and f.reason in FINAL_FAILURES and f.segment_id in texts
               for f in read_jsonl(run.failures, GenerationFailure)):
        return {}  # no final failure in this set: no need to read every pair (8,000 segments: ~2 s)
    reasons = [r for r in _set_state(run, generation, texts)[1].values() if r in FINAL_FAILURES]
    return {r: reasons.count(r) for r in sorted(set(reasons))}


def _set_state(run: RunDir, generation: str, texts: dict[str, str]) -> tuple[set[str], dict[str, str]]:
    """This set's segments with pairs of their current text, and the others' last failure."""
    done = {p.segment_id for p in read_jsonl(run.pairs, Pair)
            if p.generation == generation and texts.get(p.segment_id) == p.answer}
    last = {f.segment_id: f.reason for f in read_jsonl(run.failures, GenerationFailure)
            if f.generation == generation and f.segment_id in texts and f.segment_id not in done}
    return done, last


def run_generate(config: RunConfig, run: RunDir, segments: list[Segment], *, dry_run: bool = False,
                 retry_failed: bool = False, progress: bool = True) -> GenerateSummary:
    """Generate pairs for every segment not done yet (see the module docstring)."""
    experts = load_experts(config.resolve(config.experts))
    prompts = GenerationPrompts.load(config, experts)
    gen = config.generator
    if gen.provider != "offline":  # a max_tokens too small for K questions stops here, before any call
        question_chars(gen.questions_per_segment, gen.max_tokens)
    gen_set = generation_set(config, prompts)
    summary = _start_set(run, gen_set, len(segments), dry_run)
    texts = {s.segment_id: s.text for s in segments}
    done = finished_segments(run, gen_set.generation_id, texts, retry_failed)
    pending, unknown, seen = [], [], set(done)
    for seg in segments:
        if seg.segment_id in seen:
            summary.already_done += seg.segment_id in done
            continue
        seen.add(seg.segment_id)
        (pending if seg.style in experts.names else unknown).append(seg)
    jobs = [build_job(config.generator, config.seed, prompts, experts, seg, gen_set.generation_id)
            for seg in pending]
    summary = asyncio.run(_generate(config, run, prompts, jobs, unknown, summary, dry_run, progress,
                                    gen_set))
    if not dry_run:
        summary.failed_for_good = failed_for_good(run, gen_set.generation_id, texts)
        summary.retry_hint = retry_hint(summary.failed_for_good) or ""
    if summary.budget_exhausted:
        error = budget_error(config.budget, summary.run_spend_usd + summary.run_open_usd,
                             summary.run_tokens + summary.run_open_tokens,
                             summary.remaining_segments, summary.remaining)
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    if summary.attempted and not summary.segments_ok:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(summary.failures.items()))
        raise StageFailed(f"every one of {summary.attempted} attempted segment(s) failed ({reasons}); "
                          f"see {run.failures}; rerun to retry transient failures")
    return summary


def _start_set(run: RunDir, gen_set: GenerationSet, segments: int, dry_run: bool) -> GenerateSummary:
    """The summary of a run of this set (registered once its engine is open, see _generate)."""
    known = load_sets(run)
    others = len([g for g in known if g != gen_set.generation_id])
    new = gen_set.generation_id not in known
    return GenerateSummary(generation=gen_set.generation_id, model=gen_set.model, new_generation=new,
                           other_generations=others, segments=segments, dry_run=dry_run)


def response_model(job: Job) -> type[QuestionSetBase]:
    return question_set_model(len(job.slots), job.types, job.max_tokens)


async def _generate(config: RunConfig, run: RunDir, prompts: GenerationPrompts, jobs: list[Job],
                    unknown: list[Segment], summary: GenerateSummary, dry_run: bool,
                    progress: bool, gen_set: GenerationSet) -> GenerateSummary:
    services = LLMServices(run, config.budget)
    try:  # engine.kind ray: the HTTP calls go to Ray workers (synth.llm.ray_dispatch)
        engine = make_engine(config.generator, services, config.engine,
                             stage=f"generate:{summary.generation}", connect=not dry_run,
                             offline=OfflineQuestionWriter(prompts))
    except BaseException:
        services.close()
        raise
    try:
        if dry_run:
            summary.estimate = _estimate(engine, jobs)
        else:
            register(run, gen_set)  # the engine is open (its prices known): the set starts
            await _run_jobs(config, run, engine, jobs, unknown, summary, progress)
        totals = services.ledger.totals()  # settled, and open reservations apart (synth status)
        summary.run_spend_usd, summary.run_tokens = totals["spend_usd"], int(totals["tokens"])
        summary.run_open_usd, summary.run_open_tokens = totals["open_usd"], int(totals["open_tokens"])
    finally:
        await engine.aclose()
        services.close()
    return summary


def _estimate(engine: LLMEngine, jobs: list[Job]) -> CostEstimate:
    """The estimate of these jobs (their response models differ only in the question types)."""
    total = CostEstimate(price_source=engine.prices.source)
    for job in jobs:
        one = estimate_cost(engine, [job.request], response_model(job), len(job.slots))
        for name, value in one:
            if isinstance(value, (int, float)):
                setattr(total, name, getattr(total, name) + value)
    return total


async def _run_jobs(config: RunConfig, run: RunDir, engine: LLMEngine, jobs: list[Job],
                    unknown: list[Segment], summary: GenerateSummary, progress: bool) -> None:
    by_id = {job.segment.segment_id: job for job in jobs}
    with JsonlAppender(run.pairs) as pairs, JsonlAppender(run.failures) as failures:
        for seg in unknown:
            error = f"style {seg.style!r} is not an expert in {config.experts}"
            failures.append(GenerationFailure(segment_id=seg.segment_id, expert=seg.style,
                                              reason="unknown_expert", error=error,
                                              generation=summary.generation))
        sink = _Sink(config, by_id, pairs, failures)
        batch = await run_batch(engine, (job.request for job in jobs),
                                lambda request: response_model(by_id[request.item_id]), sink,
                                total=len(jobs), description=f"generate {summary.generation}",
                                progress=progress)
    left = [job for job in jobs if job.segment.segment_id not in sink.handled]
    summary.attempted = len(sink.handled)
    summary.segments_ok, summary.failed = batch.ok, batch.failed + len(unknown)
    summary.failures = {**batch.failures, **({"unknown_expert": len(unknown)} if unknown else {})}
    summary.pairs_written, summary.cached, summary.calls = sink.pairs_written, batch.cached, batch.calls
    summary.spend_usd, summary.batch_seconds = batch.spend_usd, round(batch.elapsed_s, 3)
    summary.budget_exhausted = batch.stopped == "budget"
    summary.remaining_segments = len(left)
    summary.replicas_out = batch.replicas_out
    if left:
        summary.remaining = _estimate(engine, left)
