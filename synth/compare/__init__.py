"""Compare: the generation sets of a run side by side (same segments, same judge). Entry point:
run_compare."""
from synth.compare.report import COLUMNS, compare_json, judge_lines, row
from synth.compare.stage import run_compare

__all__ = ["COLUMNS", "compare_json", "judge_lines", "row", "run_compare"]
