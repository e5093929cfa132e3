"""`synth compare`: the generation sets of a run side by side, on the same segments and judge.

For every set (synth.generate.sets) and every expert within it: pairs, judged, accepted,
accept rate and mean judge score per criterion, segments that failed, generation spend (the call
log's cost of the compared segments, so spend and counts cover the same segments), cost per
accepted pair, and question diversity and length (synth.compare.diversity). Only the segments
every set attempted are compared, and only pairs of the segments' current text (stale pairs are
left out).

Verdicts are the config's judge's only (its name in judgments.sqlite and its rubric hash): a
verdict in judged.jsonl from another judge or rubric is counted as `other_judge` and never
shown, and a set that judge has not judged says so. Writes reports/compare.json and
reports/compare.html (synth.compare.report).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from synth.compare.diversity import distinct_bigrams, embedding_distance, mean_words
from synth.compare.report import write_compare_report
from synth.config import RunConfig
from synth.files import read_jsonl
from synth.generate.sets import LEGACY, load_sets, set_id
from synth.judge.revise import root_id
from synth.judge.rubric import load_rubric
from synth.judge.stage import run_judge_name
from synth.llm.calllog import read_item_costs
from synth.records import GenerationFailure, JudgedPair, Pair, Segment, SetComparison, SetMetrics
from synth.rundir import RunDir


@dataclass
class _Part:
    """The inputs of one set (or one expert of it) on the compared segments."""

    pairs: list[Pair] = field(default_factory=list)
    judged: list[JudgedPair] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    spend: float = 0.0
    other_judge: int = 0

    def metrics(self) -> SetMetrics:
        ok = [j for j in self.judged if j.judgment is not None and j.judgment.status == "ok"]
        accepted = sum(j.accepted for j in ok)
        scores: dict[str, list[int]] = defaultdict(list)
        for j in ok:
            for name, score in j.judgment.scores.items():  # type: ignore[union-attr]
                scores[name].append(score.score)
        questions = [p.question for p in self.pairs]
        by_segment: dict[str, list[str]] = defaultdict(list)
        for p in self.pairs:
            by_segment[p.segment_id].append(p.question)
        return SetMetrics(
            pairs=len(self.pairs), judged=len(ok), other_judge=self.other_judge, accepted=accepted,
            accept_rate=accepted / len(ok) if ok else None,
            mean_scores={k: sum(v) / len(v) for k, v in sorted(scores.items())},
            failed=len(self.failed), spend_usd=round(self.spend, 6),
            cost_per_accepted_usd=round(self.spend / accepted, 6) if accepted else None,
            distinct_bigrams=distinct_bigrams(questions), embedding_distance=embedding_distance(by_segment),
            question_words=mean_words(questions))


@dataclass(frozen=True)
class JudgeRef:
    """The judge whose verdicts are compared: its stored name and its rubric."""

    name: str
    rubric_hash: str
    rubric: str  # id vVERSION (hash)

    def owns(self, judged: JudgedPair) -> bool:
        j = judged.judgment
        return j is not None and j.judge_model == self.name and j.rubric_hash == self.rubric_hash


def config_judge(config: RunConfig, run: RunDir, pairs: list[Pair]) -> JudgeRef:
    rubric = load_rubric(config.resolve(config.judge.rubric))
    return JudgeRef(run_judge_name(config, run, pairs), rubric.hash,
                    f"{rubric.id} v{rubric.version} ({rubric.hash[:8]})")


def run_compare(config: RunConfig, run: RunDir) -> list[SetComparison]:
    """Every generation set of the run, compared (see the module docstring)."""
    texts = {s.segment_id: s.text for s in read_jsonl(run.segments, Segment)}
    written = list(read_jsonl(run.pairs, Pair))
    judge = config_judge(config, run, written)
    pairs = [p for p in written if texts.get(p.segment_id) == p.answer]
    failures = list(read_jsonl(run.failures, GenerationFailure))
    judged = {root_id(j.pair): j for j in read_jsonl(run.path("judged.jsonl"), JudgedPair)}
    other = {pid for pid, j in judged.items() if j.judgment is not None and not judge.owns(j)}
    judged = {pid: j for pid, j in judged.items() if judge.owns(j)}
    registered = load_sets(run)
    ids = [g for g in registered if any(set_id(p) == g for p in pairs)]
    ids += sorted({set_id(p) for p in pairs} - set(ids))
    attempted = {g: {p.segment_id for p in pairs if set_id(p) == g}
                 | {f.segment_id for f in failures if (f.generation or LEGACY) == g} for g in ids}
    common = set.intersection(*attempted.values()) if attempted else set()
    results = []
    for gid in ids:
        whole, experts = _parts(gid, pairs, failures, (judged, other), common, run)
        first = registered.get(gid)
        sample = next(p for p in pairs if set_id(p) == gid)
        results.append(SetComparison(
            id=gid, provider=first.provider if first else sample.generator,
            model=first.model if first else sample.generator_model, segments=len(common),
            judge=judge.name, rubric=judge.rubric,
            **whole.metrics().model_dump(), experts={e: part.metrics() for e, part in sorted(experts.items())}))
    write_compare_report(run, results)
    return results


def _parts(gid: str, pairs: list[Pair], failures: list[GenerationFailure],
           verdicts: tuple[dict[str, JudgedPair], set[str]], common: set[str],
           run: RunDir) -> tuple[_Part, dict[str, _Part]]:
    judged, other = verdicts
    whole, experts = _Part(), defaultdict(_Part)
    own = [p for p in pairs if set_id(p) == gid and p.segment_id in common]
    with_pairs = {p.segment_id for p in own}
    for pair in own:
        for part in (whole, experts[pair.expert]):
            part.pairs.append(pair)
            if pair.pair_id in judged:
                part.judged.append(judged[pair.pair_id])
            part.other_judge += pair.pair_id in other
    for failure in failures:
        if (failure.generation or LEGACY) == gid and failure.segment_id in common - with_pairs:
            whole.failed.add(failure.segment_id)
            experts[failure.expert].failed.add(failure.segment_id)
    costs = read_item_costs(run.calls_db, f"generate:{gid}")
    expert_of = {p.segment_id: p.expert for p in own} | {f.segment_id: f.expert for f in failures}
    for item, usd in costs.items():
        if item in common and item in expert_of:
            experts[expert_of[item]].spend += usd
            whole.spend += usd
    return whole, dict(experts)
