"""synth compare names its judge (issue 17 item 5) and its spend covers the segments its counts
cover (issue 20); the page shows percentages and dollars, and n/a where a figure does not exist."""
from __future__ import annotations

import json
import re

import pytest
from generate_fixture import REPO, gen_config_file, make_segments

from synth.cli import main
from synth.files import read_jsonl, write_jsonl
from synth.llm.budget import read_stage_spend
from synth.llm.calllog import read_item_costs
from synth.records import GenerationSet, Pair
from synth.text import embeddings

PRICES = {"generator.price_in_per_mtok": 1.0, "generator.price_out_per_mtok": 2.0}
OTHER_JUDGE = ["--set", "judge.provider=vllm", "--set", "judge.model=other-judge",
               "--set", "judge.base_url=http://127.0.0.1:9/v1"]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test-compare")
    monkeypatch.setattr(embeddings, "available", lambda: False)  # fast: alignment recorded as skipped


def _two_sets(tmp_path, fake_llm, n: int = 6):
    run_dir = tmp_path / "run"
    config = str(gen_config_file(run_dir, fake_llm.url, **{"judge.rubric": str(REPO / "judges/default.yaml")},
                                 **PRICES))
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "segments.jsonl", make_segments(n))
    assert main(["generate", config, "--no-progress"]) == 0
    assert main(["generate", config, "--set", "generator.model=other-model", "--no-progress"]) == 0
    return config, run_dir


def _compare(capsys, argv: list[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["compare", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["generations"]


def test_compare_counts_only_the_config_judges_verdicts_and_names_it(tmp_path, fake_llm, capsys):
    config, run_dir = _two_sets(tmp_path, fake_llm)
    assert main(["judge", config]) == 0  # the offline judge writes judged.jsonl
    mine = _compare(capsys, [config])
    assert all(g["judge"].startswith("offline+checks-") and g["rubric"].startswith("default v")
               for g in mine)
    assert all(g["judged"] == g["pairs"] > 0 and g["other_judge"] == 0 for g in mine)
    html = (run_dir / "reports" / "compare.html").read_text()
    assert f"Verdicts of the judge {mine[0]['judge']} (rubric {mine[0]['rubric']}) only" in html

    other = _compare(capsys, [config, *OTHER_JUDGE])  # that judge has judged nothing here
    for g in other:
        assert g["judge"] == "other-judge" and g["judged"] == 0 and g["accepted"] == 0
        assert g["accept_rate"] is None and g["mean_scores"] == {} and g["other_judge"] == g["pairs"]
        assert all(e["judged"] == 0 and e["mean_scores"] == {} for e in g["experts"].values())
    html = (run_dir / "reports" / "compare.html").read_text()
    assert html.count("not judged by other-judge") == 2 and "offline+checks" not in html
    assert main(["compare", config, *OTHER_JUDGE]) == 0
    assert "not judged by other-judge" in capsys.readouterr().err


def test_spend_covers_the_compared_segments_only(tmp_path, fake_llm, capsys):
    config, run_dir = _two_sets(tmp_path, fake_llm)
    sets = [s.generation_id for s in read_jsonl(run_dir / "generations.jsonl", GenerationSet)]
    dropped = "seg-0000" if any(p.segment_id == "seg-0000" for p in read_jsonl(run_dir / "pairs.jsonl", Pair)) \
        else next(read_jsonl(run_dir / "pairs.jsonl", Pair)).segment_id
    kept = [p for p in read_jsonl(run_dir / "pairs.jsonl", Pair)
            if not (p.generation == sets[1] and p.segment_id == dropped)]  # the second set never did it
    write_jsonl(run_dir / "pairs.jsonl", kept)
    assert main(["judge", config]) == 0
    report = {g["id"]: g for g in _compare(capsys, [config])}
    first = report[sets[0]]
    costs = read_item_costs(run_dir / "calls.sqlite", f"generate:{sets[0]}")
    assert first["segments"] == 5 and first["pairs"] == 15  # counts: the 5 common segments
    assert first["spend_usd"] == pytest.approx(sum(v for k, v in costs.items() if k != dropped), abs=1e-6)
    assert first["spend_usd"] < read_stage_spend(run_dir / "spend.sqlite")[f"generate:{sets[0]}"]
    assert sum(e["spend_usd"] for e in first["experts"].values()) == pytest.approx(first["spend_usd"], abs=1e-6)


def test_page_reads_as_percentages_and_dollars(tmp_path, fake_llm, capsys):
    config, run_dir = _two_sets(tmp_path, fake_llm)
    assert main(["judge", config]) == 0
    assert main(["compare", config]) == 0
    html = (run_dir / "reports" / "compare.html").read_text()
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert any(re.fullmatch(r"\d+\.\d%", c) for c in cells) and any(c.startswith("$") for c in cells)
    assert not [c for c in cells if re.fullmatch(r"0\.\d{4,}", c)]  # no raw float such as 0.08333
    main(["compare", config, *OTHER_JUDGE])  # nothing judged: accepted is n/a beside accept rate n/a
    html = (run_dir / "reports" / "compare.html").read_text()
    rows = dict(re.findall(r"<tr><td>(accepted|accept rate)</td><td>([^<]*)</td>", html))
    assert rows == {"accepted": "n/a", "accept rate": "n/a"}
