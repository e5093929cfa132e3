"""The typer app every command group registers on, and the console errors go to."""
from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="synth",
    help="Turn one speaker's transcript segments into LoRA fine-tuning data for style experts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
