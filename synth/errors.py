"""The small exception hierarchy of synth. Only the CLI turns these into messages."""
from __future__ import annotations


class SynthError(Exception):
    """Base of every error synth raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class ConfigError(SynthError):
    """A run config, experts file, rubric or override is invalid; names file and key path."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        where = ", ".join(p for p in (f"file {file}" if file else "", f"key {key}" if key else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.key = file, key


class TemplateError(ConfigError):
    """A prompt or rubric template is missing or uses a variable that was not given."""


class InputError(SynthError):
    """An input file or record cannot be read; names the file, record and field."""

    exit_code = 3

    def __init__(self, message: str, *, file: str, record: int | None = None,
                 field: str | None = None, line: int | None = None):
        parts = [file]
        if line is not None:
            parts.append(f"line {line}")
        if record is not None:
            parts.append(f"record {record}")
        if field is not None:
            parts.append(f"field '{field}'")
        super().__init__(f"{': '.join([', '.join(parts), message])}")
        self.file, self.record, self.field, self.line = file, record, field, line
        self.reason = message


class LLMError(SynthError):
    """An LLM call failed in a way that stops the run (bad key, unknown model, ...)."""

    exit_code = 4


class StageFailed(SynthError):
    """A stage produced nothing usable (e.g. every attempted segment failed); details are saved."""

    exit_code = 1


class BudgetExceeded(SynthError):
    """The run's budget cap was reached; the run stopped cleanly and can be resumed."""

    exit_code = 5


class ExportError(SynthError):
    """Packing or export cannot proceed (tokenizer missing, template broken, ...)."""

    exit_code = 6


class ValidationFailed(SynthError):
    """A validation gate (trainer load, LoRA step, voice check) failed."""

    exit_code = 7


class TrainFailed(SynthError):
    """`synth train` could not train an expert (missing export, base model, train extra, bad result)."""

    exit_code = 8
