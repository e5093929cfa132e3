"""Expert router: training on the export's router split, held-out figures, `synth route`."""
from __future__ import annotations

import json

import pytest
from export_fixture import make_run

from synth.cli import main
from synth.errors import InputError, SynthError
from synth.records import RouterMetrics
from synth.router.stage import RouterExample, load_router, route, run_router, train_router
from synth.text import embeddings


def test_tfidf_router_learns_the_experts_and_saves_model_and_metrics(tmp_path):
    config, run = make_run(tmp_path, per_expert=12)
    metrics = run_router(config, run, featurizer_kind="tfidf")
    assert metrics.featurizer == "tfidf" and metrics.train_count == 36 and metrics.val_count == 12
    assert metrics.accuracy == 1.0 and metrics.macro_f1 == 1.0
    assert [sum(row) for row in metrics.confusion] == [3, 3, 3, 3]
    saved = RouterMetrics.model_validate_json(run.path("router", "metrics.json").read_text())
    assert saved.confusion == metrics.confusion
    page = run.path("reports", "router.html").read_text()
    assert "macro-F1" in page and run.path("reports", "router_confusion.png").stat().st_size > 1000
    result = route(load_router(run.root), "Which concrete steps can I take this week to manage my anger?")
    assert result.expert == "practical" and result.probability > 0.25
    assert abs(sum(result.probabilities.values()) - 1.0) < 1e-6


def test_confusion_counts_mistakes_in_the_right_cell():
    train = [RouterExample(text=f"steps plan week {i}", label="practical") for i in range(5)]
    train += [RouterExample(text=f"brain explains concept {i}", label="educational") for i in range(5)]
    val = [RouterExample(text="steps plan week", label="educational"),
           RouterExample(text="brain explains concept", label="educational")]
    _, metrics = train_router(train, val, "tfidf")
    assert metrics.labels == ["educational", "practical"]
    assert metrics.confusion == [[1, 1], [0, 0]] and metrics.accuracy == 0.5


def test_router_without_val_has_no_figures_but_still_routes(tmp_path):
    config, run = make_run(tmp_path, per_expert=4, val_every=100)
    metrics = run_router(config, run, featurizer_kind="tfidf")
    assert metrics.val_count == 0 and metrics.accuracy is None and metrics.confusion == []
    assert "no held-out figures" in run.path("reports", "router.html").read_text()


def test_one_expert_only_is_a_clear_error():
    with pytest.raises(SynthError, match="at least two experts"):
        train_router([RouterExample(text="a", label="x")], [], "tfidf")


def test_bad_router_line_names_file_line_and_field(tmp_path):
    config, run = make_run(tmp_path, per_expert=4)
    path = run.path("export", "router", "train.jsonl")
    path.write_text(path.read_text() + '{"text": "no label here"}\n')
    with pytest.raises(InputError) as err:
        run_router(config, run, featurizer_kind="tfidf")
    assert str(path) in str(err.value) and "line 13" in str(err.value) and "label" in str(err.value)


def test_route_cli_prints_expert_and_probability(tmp_path, capsys):
    config, run = make_run(tmp_path, per_expert=8)
    run_router(config, run, featurizer_kind="tfidf")
    assert main(["route", str(run.root), "I feel so alone tonight, is it okay to hurt this much?"]) == 0
    expert, probability = capsys.readouterr().out.strip().split("\t")
    assert expert == "empathetic" and 0.25 < float(probability) <= 1.0
    assert main(["route", str(run.root), "what is shame exactly?", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["expert"] == "educational"
    assert main(["route", str(tmp_path / "no-run"), "hello"]) == 3


@pytest.mark.embed
@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_minilm_router_is_the_default_with_the_embed_extra(tmp_path):
    config, run = make_run(tmp_path, per_expert=12)
    metrics = run_router(config, run)
    assert metrics.featurizer == "minilm" and metrics.accuracy is not None and metrics.accuracy >= 0.9
    assert route(load_router(run.root), "What is grief, and why does the brain do it?").expert == "educational"


def test_a_router_trained_on_another_encoders_vectors_must_be_retrained(tmp_path):
    """A MiniLM router saved by a synth that encoded with another runtime (PyTorch fp32 before
    the int8 export) would be fed vectors it was not trained on: load_router says so."""
    import joblib

    if not embeddings.available():
        pytest.skip("embed extra not installed")
    config, run = make_run(tmp_path, per_expert=12)
    run_router(config, run)
    path = run.path("router", "model.joblib")
    bundle = joblib.load(path)
    assert bundle["encoder"] == embeddings.ENCODER_ID
    del bundle["encoder"]  # as saved before the encoder was recorded
    joblib.dump(bundle, path)
    with pytest.raises(InputError, match="retrain it") as caught:
        load_router(run.root)
    assert "PyTorch fp32" in str(caught.value) and embeddings.ENCODER_ID in str(caught.value)


def test_a_val_split_too_small_to_measure_says_so_with_its_n(tmp_path, capsys):
    from synth.config import dump_config
    from synth.router.stage import MIN_VAL_PER_LABEL

    train = [RouterExample(text=f"steps plan week {i}", label="practical") for i in range(5)]
    train += [RouterExample(text=f"brain explains concept {i}", label="educational") for i in range(5)]
    enough = [RouterExample(text=f"steps plan {i}", label="practical") for i in range(MIN_VAL_PER_LABEL)]
    enough += [RouterExample(text=f"brain concept {i}", label="educational") for i in range(MIN_VAL_PER_LABEL)]
    _, measured = train_router(train, enough, "tfidf")
    assert measured.measured and measured.note == "" and measured.val_per_label == {
        "educational": MIN_VAL_PER_LABEL, "practical": MIN_VAL_PER_LABEL}
    _, short = train_router(train, enough[:MIN_VAL_PER_LABEL + 2], "tfidf")
    assert not short.measured and short.note == (
        f"not a measurement: {MIN_VAL_PER_LABEL + 2} val questions, 2 educational "
        f"(under {MIN_VAL_PER_LABEL} per expert)")
    config, run = make_run(tmp_path, per_expert=12)  # 3 val questions per expert
    config_file = tmp_path / "router.yaml"
    config_file.write_text(dump_config(config))
    assert main(["router", str(config_file)]) == 0
    line = " ".join(capsys.readouterr().err.split())
    assert "on 12 val questions (not a measurement: 12 val questions, 3 educational," in line
    saved = RouterMetrics.model_validate_json(run.path("router", "metrics.json").read_text())
    assert not saved.measured and saved.note.startswith("not a measurement: 12 val questions")
    page = run.path("reports", "router.html").read_text()
    assert "not a measurement" in page and "val macro-F1 (n=12)" in page
    from synth.reports.run import router_section
    assert "not a measurement: 12 val questions" in router_section(run)  # the run report too
