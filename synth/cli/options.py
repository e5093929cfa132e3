"""Options shared by commands that take a run config."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.config import RunConfig, load_config

ConfigArg = Annotated[Path, typer.Argument(help="Run config YAML (see configs/).", show_default=False)]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config key: dotted.key=value (repeatable)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON summary.")]


def load(config: Path, sets: list[str] | None) -> RunConfig:
    return load_config(config, sets or [])
