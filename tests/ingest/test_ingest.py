"""Ingest: both exporter shapes, inference, field_map, normalisation, and every bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_fixture import (
    answer,
    assert_accounted,
    experts,
    list_export,
    object_export,
    write_json,
    write_jsonl,
)

from synth.config import IngestConfig, load_config
from synth.errors import ConfigError, InputError
from synth.files import read_jsonl
from synth.ingest.stage import ingest_paths, run_ingest
from synth.records import QuarantinedRecord, Segment, stable_id
from synth.rundir import RunDir

EXPERTS = experts()


def ingest(*paths: Path | str, field_map: dict[str, str] | None = None, cfg: IngestConfig | None = None):
    result = ingest_paths([str(p) for p in paths], EXPERTS, field_map, cfg)
    assert_accounted(result)
    return result


def reasons(result) -> dict[str, int]:
    return result.summary()["quarantined"]


# ------------------------------------------------------------------ shapes and inference

def test_object_export_infers_roles_and_uses_file_level_style(tmp_path: Path) -> None:
    result = ingest(write_json(tmp_path / "a.json", object_export(6)))
    assert len(result.segments) == 6 and not result.errors
    schema = result.files[0].schema_
    assert schema.roles == {"text": "text", "style": "style", "confidence": "confidence",
                            "source_id": "video.video_id", "title": "video.title", "start": "start",
                            "end": "end", "id": "segment_id"}
    assert schema.confidence_scale == "unit"
    first = result.segments[0]
    assert (first.style, first.source_id, first.source_title) == ("educational", "vid000", "Talk number 0")
    assert (first.start_s, first.end_s, first.confidence, first.raw_id) == (0.0, 40.0, 0.7, "obj-0")
    fields = {f.field: f for f in schema.fields}
    assert fields["video.video_id"].presence == 100.0 and fields["video.video_id"].type == "string"


def test_list_export_percent_confidence_strings_and_timestamps(tmp_path: Path) -> None:
    result = ingest(write_json(tmp_path / "b.json", list_export(8)))
    schema = result.files[0].schema_
    assert schema.confidence_scale == "percent"
    assert schema.roles["text"] == "segment_text" and schema.roles["timestamp"] == "timestamp"
    by_id = {s.raw_id: s for s in result.segments}
    assert by_id["lst-1"].confidence == pytest.approx(0.815)  # "81.5" (a string)
    assert by_id["lst-0"].confidence == pytest.approx(0.75) and by_id["lst-0"].confidence_scale == "percent"
    assert (by_id["lst-3"].start_s, by_id["lst-3"].end_s) == (180.0, 225.0)
    assert {s.style for s in result.segments} == {"therapeutic", "educational", "empathetic", "practical"}


def test_jsonl_and_labels_in_other_case_are_normalised(tmp_path: Path) -> None:
    rows = [{"text": answer("grief", 1), "style": "  EMPATHETIC ", "confidence": 0.9, "video_id": "v1"},
            {"text": answer("anger", 2), "style": "Practical-Advice", "confidence": 0.9, "video_id": "v2"},
            {"text": answer("shame", 3), "style": "PsychoEducation", "confidence": 0.9, "video_id": "v3"}]
    result = ingest(write_jsonl(tmp_path / "c.jsonl", rows))
    assert [s.style for s in result.segments] == ["empathetic", "practical", "educational"]
    assert result.segments[0].raw_style == "  EMPATHETIC "
    assert result.files[0].format == "jsonl"


def test_field_map_overrides_inference_with_dotted_paths(tmp_path: Path) -> None:
    rows = [{"transcript": answer("burnout", i), "text": "decoy", "labels": {"style": "therapeutic"},
             "meta": {"score": 0.95, "clip": f"c{i}"}} for i in range(3)]
    path = write_json(tmp_path / "new_shape.json", {"data": {"items": rows}})
    result = ingest(path, field_map={"text": "transcript", "style": "labels.style",
                                     "confidence": "meta.score", "source": "meta.clip",
                                     "records": "data.items"})
    assert len(result.segments) == 3
    assert result.segments[0].text == answer("burnout", 0)
    assert result.segments[0].source_id == "c0" and result.segments[0].confidence == 0.95
    assert set(result.files[0].schema_.mapped) == {"text", "style", "confidence", "source_id"}


def test_unknown_field_map_role_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="field_map.txet"):
        ingest_paths([], EXPERTS, {"txet": "transcript"})


def test_field_map_path_missing_from_file_is_reported(tmp_path: Path) -> None:
    result = ingest(write_json(tmp_path / "a.json", object_export(2)), field_map={"text": "body"})
    assert reasons(result) == {"missing_text": 2}
    assert any("field_map text: path 'body'" in e and "a.json" in e for e in result.errors)


def test_title_without_video_id_takes_the_id_another_export_gives_it(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", object_export(2))
    rows = [{"segment_text": answer("rejection", 9), "communication_style": "practical",
             "confidence_score": 90, "source_title": "Talk number 1"}]
    result = ingest(tmp_path, write_json(tmp_path / "b.json", rows))
    clip = next(s for s in result.segments if s.source_file.endswith("b.json"))
    assert clip.source_id == "vid001"


def test_stable_segment_ids(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", object_export(3))
    first, second = ingest(path), ingest(path)
    assert [s.segment_id for s in first.segments] == [s.segment_id for s in second.segments]
    segment = first.segments[0]
    assert segment.segment_id == stable_id(segment.source_id, segment.original_text)
    assert len({s.segment_id for s in first.segments}) == 3


# ------------------------------------------------------------------ named reasons

def test_record_level_reasons(tmp_path: Path) -> None:
    rows = [{"text": answer("grief", 0), "style": "empathetic", "confidence": 0.9},  # ok
            {"style": "empathetic", "confidence": 0.9},  # missing_text
            {"text": "   ", "style": "empathetic", "confidence": 0.9},  # empty_text
            {"text": answer("anger", 1), "style": "sarcastic", "confidence": 0.9},  # unknown_style
            {"text": answer("shame", 2), "confidence": 0.9},  # missing_style
            {"text": answer("anxiety", 3), "style": "practical", "confidence": 0.2},  # low_confidence
            {"text": "Too short to answer anything.", "style": "practical", "confidence": 0.9}]
    for index, row in enumerate(rows):
        row["video_id"] = f"v{index}"  # one video each: the answers are near-duplicates of each other
    result = ingest(write_json(tmp_path / "r.json", rows))
    assert reasons(result) == {"missing_text": 1, "empty_text": 1, "unknown_style": 1, "missing_style": 1,
                               "low_confidence": 1, "too_short": 1}
    unknown = next(q for q in result.quarantined if q.reason == "unknown_style")
    assert unknown.field == "style" and "'sarcastic'" in unknown.message and unknown.record_index == 3
    low = next(q for q in result.quarantined if q.reason == "low_confidence")
    assert "0.2" in low.message and "practical" in low.message


def test_quarantine_flags_come_from_config(tmp_path: Path) -> None:
    rows = [{"text": answer("grief", 0), "style": "empathetic"},
            {"text": answer("grief", 0), "style": "empathetic"}]
    path = write_json(tmp_path / "d.json", rows)
    assert reasons(ingest(path)) == {"exact_duplicate": 1}
    kept = ingest(path, cfg=IngestConfig(quarantine_flags=["empty_text"]))
    assert len(kept.segments) == 2 and len({s.segment_id for s in kept.segments}) == 2
    assert "exact_duplicate" in kept.segments[1].flags


def test_duplicates_keep_the_usable_copy(tmp_path: Path) -> None:
    rows = [{"text": answer("grief", 0), "style": "empathetic", "confidence": 0.3, "video_id": "v"},
            {"text": answer("grief", 0), "style": "empathetic", "confidence": 0.9, "video_id": "v"}]
    result = ingest(write_json(tmp_path / "k.json", rows))
    assert [s.record_index for s in result.segments] == [1]  # not the first, low-confidence copy
    assert reasons(result) == {"exact_duplicate": 1} and "record 1" in result.quarantined[0].message


def test_confidence_scale_outliers_and_missing(tmp_path: Path) -> None:
    rows = [{"text": answer(t, i), "style": "educational", "confidence": c, "video_id": f"v{i}"}
            for i, (t, c) in enumerate([("grief", 0.8), ("anger", 0.9), ("shame", 1.7),
                                        ("anxiety", "n/a"), ("burnout", None)])]
    result = ingest(write_json(tmp_path / "c.json", rows))
    by_index = {s.record_index: s for s in result.segments}
    assert result.files[0].schema_.confidence_scale == "unit"
    assert "confidence_out_of_range" in by_index[2].flags and by_index[2].confidence is None
    assert "confidence_missing" in by_index[3].flags and by_index[3].confidence_scale == "missing"
    assert "confidence_missing" in by_index[4].flags


def test_bad_timestamps(tmp_path: Path) -> None:
    stamps = ["00:01:00 - 00:02:00", "00:61:10 - 00:62:00", "00:16:00 - 00:15:11", "soon"]
    rows = [{"text": answer("grief", i), "style": "empathetic", "confidence": 90, "timestamp": ts,
             "title": f"t{i}"} for i, ts in enumerate(stamps)]
    result = ingest(write_json(tmp_path / "t.json", rows))
    flagged = [s.record_index for s in result.segments if "bad_timestamps" in s.flags]
    assert flagged == [1, 2, 3] and result.segments[0].start_s == 60.0
    assert result.segments[1].start_s is None


def test_duplicate_id_within_a_file(tmp_path: Path) -> None:
    rows = [{"id": "x1", "text": answer("grief", 0), "style": "empathetic", "video_id": "v1"},
            {"id": "x1", "text": answer("anger", 1), "style": "empathetic", "video_id": "v2"}]
    result = ingest(write_json(tmp_path / "i.json", rows))
    assert reasons(result) == {"duplicate_id": 1}
    assert "'x1'" in result.quarantined[0].message


# ------------------------------------------------------------------ bad input, each tested

@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    return write_json(tmp_path / "good.json", list_export(3))


def _errors_for(result, name: str) -> list[str]:
    return [e for e in result.errors if name in e]


def test_not_json_names_file_and_line_and_others_go_through(tmp_path: Path, good_file: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text("these are meeting notes,\nnot an export\n", encoding="utf-8")
    result = ingest(bad, good_file)
    assert len(result.segments) == 3
    [error] = _errors_for(result, "notes.json")
    assert "line 1" in error and "not JSON" in error
    assert reasons(result) == {"not_json": 1}


def test_truncated_file_keeps_complete_records(tmp_path: Path, good_file: Path) -> None:
    text = json.dumps(object_export(4), indent=2)
    bad = tmp_path / "cut.json"
    bad.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")
    result = ingest(bad, good_file)
    [error] = _errors_for(result, "cut.json")
    assert "truncated" in error and "line" in error
    from_cut = [s for s in result.segments if s.source_file.endswith("cut.json")]
    assert len(from_cut) == 3 and all(s.style == "educational" for s in from_cut)  # file-level style kept
    assert reasons(result) == {"truncated_json": 1}


def test_broken_record_mid_file_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    text = json.dumps(list_export(4), indent=2).replace('"id": "lst-1",', '"id": "lst-1" oops', 1)
    bad = tmp_path / "mid.json"
    bad.write_text(text, encoding="utf-8")
    result = ingest(bad)
    assert sorted(s.raw_id for s in result.segments) == ["lst-0", "lst-2", "lst-3"]
    assert reasons(result) == {"invalid_json": 1} and "line" in result.errors[0]


@pytest.mark.parametrize("name, content", [
    ("deep.json", "[" * 5000 + "]" * 5000),
    ("deep.jsonl", '{"text": ' + "[" * 5000 + "]" * 5000 + "}\n"),
])
def test_json_nested_thousands_deep_is_one_named_error(tmp_path: Path, good_file: Path, name: str,
                                                         content: str) -> None:
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    result = ingest(bad, good_file)
    assert len(result.segments) == 3  # the good file still goes through
    [error] = _errors_for(result, name)
    assert "nested too deeply" in error and "line 1" in error
    assert sum(reasons(result).values()) == 1


@pytest.mark.parametrize("content, expected", [("42", "top level is a number"),
                                               ('"hello"', "top level is a string"),
                                               ('{"meta": {"a": 1}}', "object holds no list")])
def test_wrong_top_level_type(tmp_path: Path, good_file: Path, content: str, expected: str) -> None:
    bad = tmp_path / "top.json"
    bad.write_text(content, encoding="utf-8")
    result = ingest(bad, good_file)
    [error] = _errors_for(result, "top.json")
    assert expected in error
    assert len(result.segments) == 3 and reasons(result) == {"wrong_top_level": 1}


def test_record_that_is_not_an_object_and_text_not_a_string(tmp_path: Path) -> None:
    rows = [{"text": answer("grief", 0), "style": "empathetic"}, "just a string", [1, 2],
            {"text": 12, "style": "empathetic"}, {"text": ["a", "b"], "style": "empathetic"}]
    result = ingest(write_json(tmp_path / "mixed.json", rows))
    assert len(result.segments) == 1
    assert reasons(result) == {"not_an_object": 2, "text_not_string": 2}
    not_string = next(q for q in result.quarantined if q.reason == "text_not_string")
    assert not_string.field == "text" and "number" in not_string.message and not_string.record_index == 3


def test_invalid_utf8_quarantines_only_the_bad_record(tmp_path: Path, good_file: Path) -> None:
    rows = [{"text": answer("grief", 0), "style": "empathetic"}, {"text": "BAD", "style": "empathetic"}]
    data = json.dumps(rows, indent=1).encode().replace(b"BAD", b"bad \xff\xfe bytes")
    bad = tmp_path / "latin.json"
    bad.write_bytes(data)
    result = ingest(bad, good_file)
    [error] = _errors_for(result, "latin.json")
    assert "invalid UTF-8" in error and "line" in error
    assert reasons(result) == {"invalid_utf8": 1} and result.quarantined[0].field == "text"
    assert len(result.segments) == 4
    json.dumps([q.model_dump(mode="json") for q in result.quarantined])  # serialisable (no surrogates)


def test_ten_megabyte_text_is_quarantined_not_processed(tmp_path: Path, good_file: Path) -> None:
    rows = [{"text": "feeling " * 1_300_000, "style": "empathetic"},
            {"text": answer("grief", 0), "style": "empathetic"}]
    result = ingest(write_json(tmp_path / "huge.json", rows), good_file)
    [huge] = result.quarantined
    assert huge.reason == "too_long" and "10,400,000 characters" in huge.message
    assert len(huge.raw or "") <= 600 and len(result.segments) == 4


def test_no_known_field_at_all(tmp_path: Path, good_file: Path) -> None:
    rows = [{"foo": 1, "bar": "x"}, {"foo": 2, "bar": "y"}]
    result = ingest(write_json(tmp_path / "odd.json", rows), good_file)
    [error] = _errors_for(result, "odd.json")
    assert "no text field recognised" in error and "field_map.text" in error
    assert reasons(result) == {"missing_text": 2} and len(result.segments) == 3


def test_empty_file(tmp_path: Path, good_file: Path) -> None:
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    result = ingest(tmp_path / "empty.json", good_file)
    [error] = _errors_for(result, "empty.json")
    assert "empty file" in error and len(result.segments) == 3 and result.records == 3


def test_directory_without_json_and_missing_paths(tmp_path: Path, good_file: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hello", encoding="utf-8")
    result = ingest(tmp_path / "docs", tmp_path / "nope.json", str(tmp_path / "*.csv"), good_file)
    assert any("docs" in e and "no .json or .jsonl files" in e for e in result.errors)
    assert any("nope.json" in e and "no such file" in e for e in result.errors)
    assert any("*.csv" in e for e in result.errors)
    assert len(result.segments) == 3


def test_jsonl_bad_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    good = json.dumps({"text": answer("grief", 0), "style": "empathetic", "video_id": "v1"})
    other = json.dumps({"text": answer("anger", 1), "style": "practical", "video_id": "v2"})
    path.write_text(f"{good}\n{{broken\n{other}\n", encoding="utf-8")
    result = ingest(path)
    assert len(result.segments) == 2 and reasons(result) == {"invalid_json": 1}
    assert "lines.jsonl, line 2" in result.errors[0] and result.quarantined[0].line == 2


def test_json_documents_saved_as_jsonl_and_jsonl_saved_as_json(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(list_export(2)), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps(object_export(2), indent=2), encoding="utf-8")
    rows = [{"text": answer("grief", 7), "style": "empathetic", "video_id": "j1"},
            {"text": answer("anger", 8), "style": "practical", "video_id": "j2"}]
    write_jsonl(tmp_path / "c.json", rows)
    result = ingest(tmp_path)
    assert len(result.segments) == 6 and not result.errors
    assert {Path(f.path).name: f.format for f in result.files} == {"a.jsonl": "json", "b.jsonl": "json",
                                                                    "c.json": "jsonl"}


def test_globs_and_directories(tmp_path: Path) -> None:
    write_json(tmp_path / "x" / "a.json", object_export(2))
    write_jsonl(tmp_path / "x" / "sub" / "b.jsonl", list_export(2))
    assert len(ingest(tmp_path / "x").segments) == 4
    assert len(ingest(str(tmp_path / "x" / "**" / "*.jsonl")).segments) == 2


# ------------------------------------------------------------------ run_ingest

def test_run_ingest_writes_run_outputs(tmp_path: Path) -> None:
    write_json(tmp_path / "in" / "a.json", object_export(4))
    write_json(tmp_path / "in" / "b.json", [{"text": "", "style": "empathetic"}])
    config_path = tmp_path / "run.yaml"
    config_path.write_text(f"run_dir: {tmp_path / 'run'}\ninputs: ['in/*.json']\n"
                           f"experts: {EXPERTS_PATH}\n", encoding="utf-8")
    config = load_config(config_path)  # inputs resolve next to the config file
    result = run_ingest(config, RunDir(config.run_dir))
    run = RunDir(config.run_dir)
    segments = list(read_jsonl(run.segments, Segment))
    quarantined = list(read_jsonl(run.quarantine, QuarantinedRecord))
    assert len(segments) == 4 and [q.reason for q in quarantined] == ["empty_text"]
    assert len(result.segments) + len(result.quarantined) == 5
    for name in ("audit.md", "audit.html", "audit.json", "lengths_words.png", "flags.png"):
        assert (run.reports / name).stat().st_size > 0


def test_run_ingest_without_usable_segments_raises(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", [{"text": "", "style": "empathetic"}])
    config = load_config(None, [f"run_dir={tmp_path / 'run'}", f"inputs=['{tmp_path / 'a.json'}']",
                                f"experts={EXPERTS_PATH}"])
    with pytest.raises(InputError, match="no usable segments"):
        run_ingest(config, RunDir(config.run_dir))
    assert (tmp_path / "run" / "quarantine.jsonl").read_text().count("\n") == 1


EXPERTS_PATH = Path(__file__).resolve().parents[2] / "configs" / "experts.yaml"


# ------------------------------------------------------------------ normalisation helpers

def test_confidence_scale_detection_and_parsing() -> None:
    from synth.ingest.normalise import normalise_confidence
    from synth.ingest.schema import detect_confidence_scale

    assert detect_confidence_scale([0.5, 0.9, 1.7]) == "unit"  # one outlier does not flip the scale
    assert detect_confidence_scale([55, "97.7", 80.1]) == "percent"
    assert detect_confidence_scale(["0.9", "85%"]) == "percent"
    assert detect_confidence_scale(["n/a", None]) == "missing"
    assert normalise_confidence(" 87.5 ", True, "percent") == (0.875, None)
    assert normalise_confidence("87%", True, "unit") == (0.87, None)
    assert normalise_confidence(140, True, "percent") == (None, "confidence_out_of_range")
    assert normalise_confidence(True, True, "unit") == (None, "confidence_missing")
    assert normalise_confidence(None, False, "unit") == (None, "confidence_missing")


def test_timestamp_parsing() -> None:
    from synth.ingest.normalise import normalise_times, parse_range

    assert parse_range("00:01:02 - 01:00:00.5") == (62.0, 3600.5)
    assert parse_range("01:05 --> 02:10") == (65.0, 130.0)
    assert parse_range("00:61:10 - 00:62:00") is None
    absent = (False, None)
    assert normalise_times((True, "12.5"), (True, 20), absent) == (12.5, 20.0, None)
    assert normalise_times((True, 30), (True, 20), absent) == (None, None, "bad_timestamps")
    assert normalise_times(absent, absent, absent) == (None, None, None)
