"""The CLI shell: --help on every command, usage errors and unusable files as one-line
errors with the exit codes of synth.cli (never a traceback)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from synth.cli import app, main
from synth.errors import InputError
from synth.files import read_jsonl
from synth.records import Pair
from synth.rundir import RunDir

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, captured.err


def test_every_stage_command_is_registered() -> None:
    assert {"audit", "ingest", "generate", "status", "check", "judge", "judge-diff", "curate",
            "export", "validate", "router", "route", "review", "report", "run"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_works_on_every_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, _ = run_cli(capsys, command, "--help")
    assert code == 0


@pytest.mark.parametrize("argv", [
    ("run",),  # missing argument
    ("audit", "--no-such-option", "x"),
    ("no-such-command",),
    ("review", str(ROOT / "configs" / "example.yaml"), "--port", "abc"),
    ("route", "some-run-dir", "   "),  # empty question
])
def test_usage_errors_exit_2_without_traceback(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, err = run_cli(capsys, *argv)
    assert code == 2 and "Error" in err


def test_an_output_dir_that_cannot_be_made_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, err = run_cli(capsys, "audit", str(ROOT / "examples" / "corpus"), "--out", str(blocker / "out"),
                        "--json")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and str(blocker) in errors[0]


def test_a_corrupt_run_store_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    run.calls_db.write_bytes(b"this is not sqlite" * 10)
    code, err = run_cli(capsys, "status", str(run.root))
    assert code == 3 and "calls.sqlite" in err and "not a usable SQLite database" in err


def test_a_corrupt_router_model_is_an_input_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "router" / "model.joblib"
    model.parent.mkdir()
    model.write_bytes(b"garbage")
    code, err = run_cli(capsys, "route", str(tmp_path), "how do I calm down?")
    assert code == 3 and "model.joblib" in err and "retrain" in err


def test_a_bad_jsonl_record_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"pair_id": 1}) + "\n" + "{}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(read_jsonl(path, Pair))
    message = str(caught.value)
    assert "\n" not in message and "line 1" in message and "field 'pair_id'" in message
    assert str(path) in message and "more" in message
