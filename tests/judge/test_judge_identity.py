"""Which judge a stored verdict belongs to: the offline judge's name carries the alignment pool
(issue 20), so a new generation set does not reuse margin scores made against the old pool."""
from __future__ import annotations

from pathlib import Path

from judge_fixture import judge_config, make_pair, make_pairs, setup_run

from synth.judge.base import judge_model_name
from synth.judge.stage import run_judge_name


def test_offline_judge_name_changes_with_the_alignment_pool(tmp_path: Path) -> None:
    config = judge_config(tmp_path / "run", None)
    pool = [(p.question, p.answer) for p in make_pairs(4)]
    name = judge_model_name(config, pool)
    assert name.startswith("offline+checks-")
    assert judge_model_name(config, list(reversed(pool)) + pool[:1]) == name  # a set: order, repeats
    grown = pool + [(make_pair(9).question, make_pair(9).answer)]  # a new generation set's pair
    assert judge_model_name(config, grown) != name


def test_model_judge_name_is_the_model(tmp_path: Path) -> None:
    config = judge_config(tmp_path / "run", "http://127.0.0.1:9/v1")
    assert judge_model_name(config, [("q", "a")]) == "judge-model"


def test_run_judge_name_uses_the_runs_current_pairs(tmp_path: Path) -> None:
    config = judge_config(tmp_path / "run", None)
    pairs = make_pairs(4)
    run = setup_run(config, pairs)
    assert run_judge_name(config, run, pairs) == judge_model_name(
        config, [(p.question, p.answer) for p in pairs])
