"""Reading an export back: export/manifest.json (what train and validate start from)."""
from __future__ import annotations

from pydantic import ValidationError

from synth.errors import InputError, SynthError
from synth.records import ExportManifest
from synth.rundir import RunDir


def load_manifest(run: RunDir, missing: type[SynthError]) -> ExportManifest:
    """The run's export manifest; `missing` is raised (by the caller's stage) when there is no
    export yet, InputError naming the file when it is not a valid manifest."""
    path = run.manifest
    if not path.exists():
        raise missing(f"no export manifest at {path}: run `synth export` first")
    try:
        return ExportManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise InputError(f"invalid ExportManifest: {exc.errors()[0]['msg']}", file=str(path)) from None
