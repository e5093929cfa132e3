"""The accept rule, applied after judging: thresholds (with per-expert overrides), required
automated checks and the safety policy. Changing any of these re-decides acceptance from the
stored judgments with no judge call.

Named reasons (JudgedPair.reasons):
  not_judged:<why>              no judgment (budget exhausted, judge stopped)
  stale_segment                 the segment changed since generation: not judged (synth.generate.stale)
  judge_failed:<reason>         the judge call failed (timeout, validation_failed, refusal, ...)
  below_threshold:<criterion>   a criterion scored under its threshold
  check_failed:<check>          a required automated check failed
  harmful_request:<kind>        the question asks for weapons or serious harm (synth.judge.harm)
  ... and the safety policy's reasons (see synth.judge.safety).
"""
from __future__ import annotations

from dataclasses import dataclass

from synth.judge.checks import PairChecks
from synth.judge.harm import harm_reasons
from synth.judge.rubric import Rubric
from synth.judge.safety import SafetyPolicy
from synth.records import Judgment, Pair

FIXABLE_CHECKS = ("alignment", "degenerate_question")  # a misaligned or degenerate question can be rewritten


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reasons: list[str]
    fixable: bool  # every reason can be fixed by rewriting the question


def failure_reason(judgment: Judgment) -> str:
    return (judgment.error or "unknown").split(":", 1)[0].strip() or "unknown"


def decide(pair: Pair, judgment: Judgment | None, checks: PairChecks, rubric: Rubric,
           policy: SafetyPolicy, not_judged: str = "not_judged:judge_stopped") -> Decision:
    reasons = policy.reasons(checks.screen, judgment)  # safety first: reasons[0] names the exclusion
    reasons += harm_reasons(checks.results)
    reasons += _judge_reasons(pair, judgment, rubric, not_judged)
    reasons += [f"check_failed:{name}" for name in rubric.accept.required_checks
                if not checks.get(name).passed]
    return Decision(not reasons, reasons, bool(reasons) and all(_fixable(r, rubric) for r in reasons))


def _judge_reasons(pair: Pair, judgment: Judgment | None, rubric: Rubric, not_judged: str) -> list[str]:
    if judgment is None:
        return [not_judged]
    if judgment.status == "failed":
        return [f"judge_failed:{failure_reason(judgment)}"]
    reasons = []
    for criterion in rubric.criteria:
        verdict = judgment.scores.get(criterion)
        if verdict is None:
            reasons.append(f"judge_missing:{criterion}")
        elif verdict.score < rubric.threshold(pair.expert, criterion):
            reasons.append(f"below_threshold:{criterion}")
    return reasons


def _fixable(reason: str, rubric: Rubric) -> bool:
    kind, _, name = reason.partition(":")
    if kind == "below_threshold":
        return name in rubric.accept.fixable
    return kind == "check_failed" and name in FIXABLE_CHECKS


def critique(judgment: Judgment | None, decision: Decision, checks: PairChecks) -> str:
    """The judge's critique for the generator: the failed criteria with their rationales."""
    lines = []
    for reason in decision.reasons:
        kind, _, name = reason.partition(":")
        if kind == "below_threshold" and judgment is not None and name in judgment.scores:
            verdict = judgment.scores[name]
            lines.append(f"{name} scored {verdict.score}/5: {verdict.rationale}")
        elif kind == "check_failed":
            lines.append(f"{name}: {checks.get(name).reason}")
    return "\n".join(lines)
