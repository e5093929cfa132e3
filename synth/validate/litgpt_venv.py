"""The LitGPT virtual environment synth creates once and reuses.

litgpt 0.5.13 needs huggingface-hub<1.4 while transformers 5 needs >=1.31, so LitGPT cannot
live in synth's own environment. synth makes a separate venv (config `validate.litgpt_venv`,
default .venv-litgpt), installs torch==2.13.0 then litgpt==0.5.13 with pip (plus requests,
which the `litgpt` command needs for its config reader), and runs the
LitGPT checks there in a subprocess. A marker file records the pins of a finished install, so
a venv half-made by a kill is completed on the next run instead of being trusted.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from synth.errors import ValidationFailed
from synth.export.litgpt import LITGPT_PINS

PINS: tuple[tuple[str, ...], ...] = (("torch==2.13.0",), LITGPT_PINS)  # the pins the export cards name
MARKER = ".synth-litgpt-ready"
CHECK_SCRIPT = Path(__file__).parent / "scripts" / "litgpt_probe.py"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_ready(venv: Path) -> bool:
    marker = venv / MARKER
    return venv_python(venv).exists() and marker.exists() and marker.read_text() == _marker_text()


def _marker_text() -> str:
    return "\n".join(" ".join(step) for step in PINS) + "\n"


def manual_steps(venv: Path) -> str:
    return (f"python3 -m venv {venv} && {venv}/bin/pip install torch==2.13.0 && "
            f"{venv}/bin/pip install litgpt==0.5.13 requests==2.34.2 && touch {venv}/{MARKER}")


def ensure_venv(venv: Path, log: Callable[[str], None] | None = None) -> Path:
    """The python of a ready LitGPT venv at `venv`, creating or completing it when needed."""
    venv = venv.absolute()
    if is_ready(venv):
        return venv_python(venv)
    if log:
        log(f"creating the LitGPT venv at {venv} (once; about 1 minute and 1 GB)")
    if not venv_python(venv).exists():
        _run([sys.executable, "-m", "venv", str(venv)], venv, "create the venv")
    for step in PINS:
        _run([str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              *step], venv, f"pip install {' '.join(step)}")
    (venv / MARKER).write_text(_marker_text())
    return venv_python(venv)


def _run(command: list[str], venv: Path, what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ValidationFailed(
            f"cannot set up the LitGPT venv at {venv}: {what} failed (exit {done.returncode}; "
            f"no network or no package index?):\n{tail}\nCreate it by hand: {manual_steps(venv)}")
