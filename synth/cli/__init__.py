"""The synth command line: a thin layer over the library. Only here do errors become messages.

Exit codes: 0 ok; 1 error; 2 bad config or usage; 3 bad input; 4 LLM endpoint refused
(bad key, unknown model); 5 budget cap reached (resumable); 6 export failed;
7 validation failed; 8 training failed; 130 interrupted.
"""
from __future__ import annotations

import sys

import typer

from synth.cli import compare as _compare  # noqa: E402,F401
from synth.cli import curate as _curate  # noqa: E402,F401
from synth.cli import export as _export  # noqa: E402,F401
from synth.cli import generate as _generate  # noqa: E402,F401

# each command group registers its commands on `app` (import order = order in --help)
from synth.cli import ingest as _ingest  # noqa: E402,F401
from synth.cli import judge as _judge  # noqa: E402,F401
from synth.cli import pipeline as _pipeline  # noqa: E402,F401
from synth.cli import report as _report  # noqa: E402,F401
from synth.cli import review as _review  # noqa: E402,F401
from synth.cli import router as _router  # noqa: E402,F401
from synth.cli import train as _train  # noqa: E402,F401
from synth.cli import validate as _validate  # noqa: E402,F401
from synth.cli.app import app, err_console
from synth.errors import SynthError


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turn SynthError into a one-line message and an exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except SynthError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]: rerun the same command to resume")
        return 130
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        return int(code or 0)
    except typer.Abort:
        return 1
    except typer.TyperException as exc:  # usage: missing argument, unknown option, bad value
        _show_usage_error(exc)
        return exc.exit_code
    except OSError as exc:  # a file synth must write or read (run dir, --out) is not usable
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"[bold red]error:[/] {where}{exc.strerror or exc}", highlight=False,
                          soft_wrap=True)
        return 1
    _report_encoding()
    return 0


def _report_encoding() -> None:
    """How many texts the command encoded and how many vectors it found in the machine's store."""
    embeddings = sys.modules.get("synth.text.embeddings")  # never imported: nothing was encoded
    counts = getattr(embeddings, "COUNTS", None)
    if counts and any(counts.values()):
        err_console.print(f"encoder: {counts['encoded']} texts encoded, {counts['stored']} vectors read from "
                          "the machine's vector store", highlight=False)


def _show_usage_error(exc: typer.TyperException) -> None:
    """Usage plus one error line, as click shows it (typer vendors click: typer._click)."""
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        err_console.print(f"[bold red]error:[/] {exc.format_message()}", highlight=False)


def run() -> None:
    sys.exit(main())
