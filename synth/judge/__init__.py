"""Judge: automated checks, the LLM (or offline) judge against a versioned rubric, the safety
policy and the revise loop -> JudgedPairs (judged.jsonl). Entry point: run_judge; judge_diff and
run_checks (synth check) are the stage's other public calls."""
from synth.judge.checks import check_report, read_check_items, run_checks
from synth.judge.degenerate import config_plan
from synth.judge.diff import JudgeDiff, judge_diff
from synth.judge.safety import SafetyPolicy
from synth.judge.stage import run_judge

__all__ = ["JudgeDiff", "SafetyPolicy", "check_report", "config_plan", "judge_diff", "read_check_items",
           "run_checks", "run_judge"]
