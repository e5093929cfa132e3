"""off_topic from the run's own corpus (synth/ingest/topic.py): cooking and money talk is kept,
planted strays are quarantined with their figures, small corpora and a missing embed extra
fall back to the word list, and the config is validated."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ingest_fixture import ROOT, assert_accounted, experts, write_json
from pydantic import ValidationError
from topic_fixture import COOKING_MONEY, PLANTED, PSYCHOLOGY, records

from synth.config import IngestConfig, OffTopicConfig, load_config
from synth.ingest import topic
from synth.ingest.audit import write_audit
from synth.ingest.stage import ingest_paths
from synth.text import embeddings

EXPERTS = experts()
SHARED = ROOT.parent / "shared" / "data" / "segments"
CHATTER = ("empathetic_batch2.json", 19)  # the sample corpus's planted recording chatter
needs_embed = pytest.mark.skipif(not embeddings.available(), reason="the embed extra is not installed")


def ingest(tmp_path: Path, rows: list[dict], **off_topic: object):
    path = write_json(tmp_path / "corpus.json", rows)
    result = ingest_paths([str(path)], EXPERTS, ingest_cfg=IngestConfig(off_topic=OffTopicConfig(**off_topic)))
    assert_accounted(result)
    return result


def psychology_with_strays() -> list[dict]:
    rows = records(PSYCHOLOGY[:11] + PLANTED[:1] + PSYCHOLOGY[11:] + PLANTED[1:], "ps")
    assert rows[11]["text"] == PLANTED[0] and rows[23]["text"] == PLANTED[1]
    return rows


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    if not embeddings.available():
        pytest.skip("the embed extra is not installed")
    return ingest(tmp_path_factory.mktemp("planted"), psychology_with_strays())


# ------------------------------------------------------------------ the corpus score

@needs_embed
def test_a_cooking_and_money_corpus_keeps_every_segment(tmp_path: Path) -> None:
    rows = records(COOKING_MONEY, "cm")
    assert {r["style"] for r in rows} == {"therapeutic", "educational", "empathetic", "practical"}
    result = ingest(tmp_path, rows)
    assert result.off_topic is not None and result.off_topic.method == "corpus"
    assert result.off_topic.scored == len(rows) == len(result.segments) == 24
    assert not any("off_topic" in s.flags for s in result.segments) and not result.quarantined
    assert min(o.z for o in result.off_topic.lowest) > -3.25
    # the word list alone flags much of it, so only its share gate saved it
    words = ingest(tmp_path, rows, method="word_list")
    assert any("off_topic not applied" in note for note in words.notes)


@needs_embed
def test_planted_strays_in_a_psychology_corpus_are_quarantined_with_their_figures(planted) -> None:
    off_topic = [q for q in planted.quarantined if q.reason == "off_topic"]
    assert sorted(q.record_index for q in off_topic) == [11, 23]
    assert len(planted.segments) == len(PSYCHOLOGY) and not planted.quarantined[2:]
    for q in off_topic:
        assert "mean cosine 0." in q.message and "corpus median 0." in q.message
        assert "robust z -" in q.message and "max_z -3.25" in q.message and "min_cosine 0.35" in q.message
    report = planted.off_topic
    assert report.method == "corpus" and report.flagged == 2 and report.scored == 24
    assert sorted(o.record_index for o in report.outliers) == [11, 23]
    assert all(o.score < 0.35 and o.z <= -3.25 for o in report.outliers)
    assert report.median is not None and report.median > max(o.score for o in report.outliers)
    assert "off_topic by the corpus score" in planted.notes[0]


@needs_embed
def test_max_share_caps_the_quarantine_lowest_first(tmp_path: Path, planted) -> None:
    result = ingest(tmp_path, psychology_with_strays(), max_share=0.05)  # 5% of 24: one record
    [only] = [q for q in result.quarantined if q.reason == "off_topic"]
    assert only.record_index == planted.off_topic.outliers[0].record_index
    assert any("1 more segment(s) below the cutoff kept" in note for note in result.notes)


@needs_embed
def test_audit_shows_the_method_and_the_outliers(tmp_path: Path, planted) -> None:
    write_audit(planted, tmp_path, experts=EXPERTS)
    details = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert details["off_topic"]["method"] == "corpus"
    assert sorted(o["record_index"] for o in details["off_topic"]["outliers"]) == [11, 23]
    markdown = (tmp_path / "audit.md").read_text(encoding="utf-8")
    assert "Off-topic" in markdown and "Method: corpus" in markdown and "brake pads" in markdown


# ------------------------------------------------------------------ fallbacks

def test_a_small_corpus_gets_no_corpus_score(tmp_path: Path) -> None:
    result = ingest(tmp_path, records(PSYCHOLOGY[:12] + PLANTED[:1], "small"))
    assert result.off_topic.method == "word_list" and result.off_topic.requested == "corpus"
    assert "corpus score not run: 13 segments" in result.notes[0] and "min_segments 20" in result.notes[0]
    [q] = [q for q in result.quarantined if q.reason == "off_topic"]  # the word list still reads it
    assert q.record_index == 12 and "domain word list" in q.message


def test_without_the_embed_extra_the_word_list_runs_and_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    monkeypatch.setattr(embeddings, "embed", lambda texts: pytest.fail("embedded without the extra"))
    result = ingest(tmp_path, psychology_with_strays())
    assert result.off_topic.method == "word_list"
    assert "sentence embeddings are not installed" in result.notes[0]
    assert sorted(q.record_index for q in result.quarantined if q.reason == "off_topic") == [11, 23]


def test_method_off_flags_nothing(tmp_path: Path) -> None:
    result = ingest(tmp_path, records(PSYCHOLOGY[:4] + PLANTED, "off"), method="off")
    assert result.off_topic.method == "off" and result.off_topic.flagged == 0
    assert len(result.segments) == 6 and not any("off_topic" in s.flags for s in result.segments)


# ------------------------------------------------------------------ the arithmetic

def test_neighbour_scores_skip_the_segment_itself_and_robust_z() -> None:
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    scores = topic.neighbour_scores(vectors, vectors, [0, 1, 2], k=1)
    np.testing.assert_allclose(scores, [0.8, 0.8, 0.6])
    outside = topic.neighbour_scores(vectors[:1], vectors[1:], [None], k=2)
    np.testing.assert_allclose(outside, [0.4])
    z, median, mad = topic.robust_z(np.array([0.5, 0.5, 0.5, 0.1]))
    assert median == 0.5 and mad == 0 and not z.any()  # no spread: nobody is an outlier
    z, median, mad = topic.robust_z(np.array([0.4, 0.5, 0.6, 0.5, 0.0]))
    assert median == 0.5 and mad == pytest.approx(0.14826) and z[-1] == pytest.approx(-0.5 / 0.14826)


def test_sparse_experts_get_their_profile_as_a_neighbour() -> None:
    styles = ["practical"] * 6 + ["empathetic"] * 2
    assert [e.name for e in topic.sparse_experts(EXPERTS, styles, 5)] == ["therapeutic", "educational", "empathetic"]
    [text] = topic.profile_texts([EXPERTS.get("practical")])
    assert "concrete" in text and "coping skills" in text


# ------------------------------------------------------------------ config

def test_off_topic_config_is_validated() -> None:
    assert IngestConfig().off_topic.method == "corpus"
    with pytest.raises(ValidationError, match="neighbours"):
        OffTopicConfig(neighbours=20, min_segments=20)
    with pytest.raises(ValidationError):
        OffTopicConfig(method="lexicon")
    with pytest.raises(ValidationError):
        OffTopicConfig(max_z=1.0)
    with pytest.raises(ValidationError):
        IngestConfig.model_validate({"off_topic": {"cutoff": -3}})


def test_the_old_off_topic_max_share_key_still_loads(tmp_path: Path) -> None:
    cfg = IngestConfig.model_validate({"off_topic_max_share": 0.4})
    assert cfg.off_topic.word_list_max_share == 0.4 and cfg.off_topic.method == "corpus"
    cfg = IngestConfig.model_validate({"off_topic_max_share": 0.4, "off_topic": {"word_list_max_share": 0.3}})
    assert cfg.off_topic.word_list_max_share == 0.3
    path = tmp_path / "run.yaml"
    path.write_text("inputs: [x.json]\ningest:\n  off_topic: {method: word_list, max_share: 0.02}\n", encoding="utf-8")
    loaded = load_config(path)
    assert loaded.ingest.off_topic.method == "word_list" and loaded.ingest.off_topic.max_share == 0.02


# ------------------------------------------------------------------ the shared sample corpus

@needs_embed
@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared sample exports are not on this machine")
@pytest.mark.parametrize("method", ["corpus", "word_list"])
def test_sample_corpus_chatter_is_caught_by_either_method(method: str) -> None:
    result = ingest_paths([str(SHARED)], EXPERTS, ingest_cfg=IngestConfig(off_topic=OffTopicConfig(method=method)))
    assert result.off_topic.method == method
    off_topic = [(Path(q.source_file).name, q.record_index) for q in result.quarantined if q.reason == "off_topic"]
    assert off_topic == [CHATTER]
    flagged = [item for item in (*result.segments, *result.quarantined) if "off_topic" in item.flags]
    assert len(flagged) <= 2  # the chatter, and at most the promo record (quarantined as promo)
    assert len(result.segments) == 141
