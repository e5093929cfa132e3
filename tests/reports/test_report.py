"""Run report: links only what exists, says what is missing, shows validation and router figures."""
from __future__ import annotations

from export_fixture import make_run

from synth.cli import main
from synth.records import ValidationCheck, ValidationReport
from synth.reports.run import write_run_report
from synth.router.stage import run_router
from synth.rundir import RunDir


def test_empty_run_says_what_is_missing(tmp_path):
    config, _ = make_run(tmp_path)
    run = RunDir(tmp_path / "empty-run")
    page = write_run_report(config, run).read_text()
    for title, command in (("Audit", "synth audit CONFIG"), ("Judge statistics", "synth judge CONFIG"),
                           ("Validation", "synth validate CONFIG"), ("Router", "synth router CONFIG")):
        assert f"{title}: missing (run <code>{command}</code>)" in page
    assert "href=" not in page


def test_report_links_existing_pages_and_shows_figures(tmp_path):
    config, run = make_run(tmp_path, per_expert=8)
    (run.reports / "audit.html").write_text("<html>audit</html>")
    run_router(config, run, featurizer_kind="tfidf")
    report = ValidationReport(run_dir=str(run.root), base_model="qwen3", checks=[
        ValidationCheck(expert="practical", check="voice", status="pass", detail="ok"),
        ValidationCheck(expert="practical", check="trl_lora_step", status="fail", detail="loss <nan>")])
    (run.reports / "validation.json").write_text(report.model_dump_json())
    (run.reports / "validation.html").write_text("<html>v</html>")
    page = write_run_report(config, run).read_text()
    assert '<a href="audit.html">Audit</a>' in page and '<a href="router.html">Router</a>' in page
    assert '<a href="validation.html">Validation</a>' in page
    assert "Distribution analysis: missing" in page and "Judge statistics: missing" in page
    assert "Validation: FAILED (1 check(s))" in page and 'title="loss &lt;nan&gt;"' in page
    assert "val accuracy</td><td>1.000" in page and "tfidf" in page
    assert "<td>segments</td><td>32</td>" in page and '<a href="../export/manifest.json">' in page


def test_report_cli_writes_index(tmp_path, capsys):
    _config, run = make_run(tmp_path)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"run_dir: {run.root}\n")
    assert main(["report", str(config_file)]) == 0
    assert run.path("reports", "index.html").exists()
    assert "index.html" in capsys.readouterr().err.replace("\n", "")


def test_one_set_run_has_nothing_to_compare_said_neutrally(tmp_path):
    """A run with one generation set: the comparison is not 'missing' in warning colour."""
    from synth.generate.sets import register
    from synth.records import GenerationSet

    config, run = make_run(tmp_path)
    one = GenerationSet(generation_id="set-a", provider="offline", model="offline", prompts_hash="p",
                        questions_per_segment=2, temperature=0.8, max_tokens=512, seed=0, generator_seed=0)
    register(run, one)
    page = write_run_report(config, run).read_text()
    assert "Generator comparison: missing" not in page
    line = next(li for li in page.split("<li") if "Generator comparison" in li)
    assert "nothing to compare" in line and "class=missing" not in line
    register(run, one.model_copy(update={"generation_id": "set-b", "model": "other"}))
    page = write_run_report(config, run).read_text()  # two sets, not compared yet: missing again
    assert "Generator comparison: missing (run <code>synth compare CONFIG</code>)" in page
