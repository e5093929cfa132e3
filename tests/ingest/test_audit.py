"""synth audit / synth ingest through the CLI: summary JSON, reports, plots, errors, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_fixture import ROOT, answer, list_export, object_export, write_json, write_jsonl

from synth.cli import main
from synth.records import QUALITY_FLAGS

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    write_json(tmp_path / "corpus" / "talks.json", object_export(6))
    write_jsonl(tmp_path / "corpus" / "clips.jsonl", list_export(6))
    return tmp_path / "corpus"


def test_audit_json_summary_and_reports(tmp_path: Path, corpus: Path, capsys) -> None:
    out = tmp_path / "report"
    code, stdout, _ = run_cli(capsys, "audit", str(corpus), "--json", "--out", str(out))
    assert code == 0
    summary = json.loads(stdout)
    assert summary["files"] == 2 and summary["records"] == 12
    assert summary["usable"] + sum(summary["quarantined"].values()) == summary["records"]
    assert set(summary["by_style"]) == {"therapeutic", "educational", "empathetic", "practical"}
    assert sum(summary["by_style"].values()) == summary["usable"]
    assert list(summary["flags"]) == list(QUALITY_FLAGS)
    for name in ("audit.md", "audit.html", "audit.json"):
        assert (out / name).stat().st_size > 0
    for name in ("lengths_words.png", "confidence_by_style.png", "confidence_by_file.png", "flags.png"):
        assert (out / name).read_bytes().startswith(PNG)
    markdown = (out / "audit.md").read_text(encoding="utf-8")
    assert "video.video_id" in markdown and "Confidence scale: percent" in markdown
    assert "Confidence scale: unit" in markdown and "presence %" in markdown
    html = (out / "audit.html").read_text(encoding="utf-8")
    assert '<img src="lengths_words.png"' in html and "<table>" in html
    details = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert {f["schema"]["confidence_scale"] for f in details["file_reports"]} == {"unit", "percent"}


def test_audit_human_output(tmp_path: Path, corpus: Path, capsys) -> None:
    code, stdout, _ = run_cli(capsys, "audit", str(corpus / "*.json"), "--out", str(tmp_path / "r"))
    assert code == 0 and "records" in stdout and "audit.html" in stdout


def test_audit_map_option_for_an_unknown_shape(tmp_path: Path, capsys) -> None:
    rows = [{"transcript": answer("grief", i), "labels": {"style": "empathetic"}, "clip": f"c{i}"}
            for i in range(3)]
    path = write_json(tmp_path / "odd.json", {"payload": rows})
    code, stdout, _ = run_cli(capsys, "audit", str(path), "--json", "--out", str(tmp_path / "r"),
                              "--map", "text=transcript", "--map", "style=labels.style",
                              "--map", "records=payload", "--map", "source_id=clip")
    assert code == 0 and json.loads(stdout)["by_style"]["empathetic"] == 3


@pytest.mark.parametrize("bad", ["text", "=x", "sytle=labels.style"])
def test_bad_map_option_is_a_usage_error(tmp_path: Path, corpus: Path, capsys, bad: str) -> None:
    code, _, stderr = run_cli(capsys, "audit", str(corpus), "--map", bad, "--out", str(tmp_path / "r"))
    assert code == 2 and ("--map" in stderr or "field_map" in stderr)


def test_bad_inputs_one_line_each_exit_3_valid_records_still_audited(tmp_path: Path, corpus: Path,
                                                                     capsys) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "notes.json").write_text("not json at all\n", encoding="utf-8")
    (tmp_path / "bad" / "empty.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "bad" / "latin.json").write_bytes(b'[{"text": "caf\xe9", "style": "practical"}]')
    (tmp_path / "nojson").mkdir()
    code, stdout, stderr = run_cli(capsys, "audit", str(corpus), str(tmp_path / "bad"),
                                   str(tmp_path / "nojson"), "--json", "--out", str(tmp_path / "r"))
    assert code == 3
    summary = json.loads(stdout)
    assert summary["usable"] == 12 and summary["records"] == 14
    assert summary["quarantined"] == {"not_json": 1, "invalid_utf8": 1}
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert any("notes.json, line 1" in line for line in lines)
    assert any("empty.jsonl" in line and "empty file" in line for line in lines)
    assert any("latin.json" in line and "invalid UTF-8" in line for line in lines)
    assert any("nojson" in line and "no .json or .jsonl files" in line for line in lines)


def test_audit_of_nothing_readable_exits_3(tmp_path: Path, capsys) -> None:
    code, _, stderr = run_cli(capsys, "audit", str(tmp_path / "missing"), "--out", str(tmp_path / "r"))
    assert code == 3 and "no such file or directory" in stderr


def test_audit_with_a_tokenizer_adds_token_histograms(tmp_path: Path, corpus: Path, capsys) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    tokenizer.train_from_iterator([answer(t, 0) for t in ("grief", "shame", "anger")],
                                  trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    (tmp_path / "tok").mkdir()
    tokenizer.save(str(tmp_path / "tok" / "tokenizer.json"))
    out = tmp_path / "r"
    code, _, _ = run_cli(capsys, "audit", str(corpus), "--json", "--out", str(out), "--tokenizer",
                         str(tmp_path / "tok"))
    assert code == 0 and (out / "lengths_tokens.png").read_bytes().startswith(PNG)
    assert "Tokens per usable segment" in (out / "audit.md").read_text(encoding="utf-8")


def test_audit_with_a_missing_tokenizer_is_a_usage_error(tmp_path: Path, corpus: Path, capsys) -> None:
    code, _, stderr = run_cli(capsys, "audit", str(corpus), "--tokenizer", str(tmp_path / "none"),
                              "--out", str(tmp_path / "r"))
    assert code == 2 and "tokenizer" in stderr


def test_ingest_command_writes_the_run(tmp_path: Path, corpus: Path, capsys) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(f"inputs: ['{corpus}/*.json', '{corpus}/*.jsonl']\n"
                      f"experts: {ROOT / 'configs' / 'experts.yaml'}\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "ingest", str(config), "--set", f"run_dir={run_dir}", "--json")
    assert code == 0 and json.loads(stdout)["records"] == 12
    assert (run_dir / "segments.jsonl").read_text().count("\n") == json.loads(stdout)["usable"]
    assert (run_dir / "config.yaml").exists() and (run_dir / "reports" / "audit.html").exists()


def test_ingest_command_bad_set_is_a_config_error(tmp_path: Path, capsys) -> None:
    code, _, stderr = run_cli(capsys, "ingest", str(ROOT / "configs" / "example.yaml"),
                              "--set", "ingest.near_dup_threshold=2")
    assert code == 2 and "ingest.near_dup_threshold" in stderr and "example.yaml" in stderr


def test_example_corpus(tmp_path: Path, capsys) -> None:
    """The shipped example corpus: 26 records, 24 usable, its planted quirks counted."""
    code, stdout, _ = run_cli(capsys, "audit", str(ROOT / "examples" / "corpus"), "--json",
                              "--out", str(tmp_path / "r"))
    summary = json.loads(stdout)
    assert code == 0 and summary["records"] == 26 and summary["usable"] == 24
    assert summary["by_style"] == {"therapeutic": 6, "educational": 6, "empathetic": 6, "practical": 6}
    assert summary["quarantined"] == {"exact_duplicate": 1, "promo": 1}
    for flag in ("transcript_artifacts", "pii", "crisis_content"):
        assert summary["flags"][flag] == 1


SHARED = ROOT.parent / "shared" / "data" / "segments"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared sample exports are not on this machine")
def test_shared_sample_exports_every_record_accounted_and_quirks_flagged(tmp_path: Path, capsys) -> None:
    code, stdout, _ = run_cli(capsys, "audit", str(SHARED), "--json", "--out", str(tmp_path / "r"))
    summary = json.loads(stdout)
    assert code == 0 and summary["usable"] + summary["quarantined_total"] == summary["records"]
    for flag in ("empty_text", "too_short", "exact_duplicate", "near_duplicate", "non_english",
                 "transcript_artifacts", "html_entities", "promo", "off_topic", "pii", "crisis_content",
                 "bad_timestamps", "confidence_out_of_range", "confidence_missing", "duplicate_id"):
        assert summary["flags"][flag] >= 1, flag
