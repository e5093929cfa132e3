"""The records of the model side: what export hands to train and validate (ExportManifest,
TrainConfigFile) and what train, validate and the router report. Import them from synth.records."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.strict import Record, utc_now

# ---------------------------------------------------------------- export

class ExportManifest(Record):
    base_model: str
    tokenizer_hash: str
    max_seq_len: int
    experts: dict[str, dict[str, int]]  # expert -> {train, val, tokens, ...}
    files: dict[str, str]  # relative path -> sha256
    input_hashes: dict[str, str] = Field(default_factory=dict)
    created_at: str = Field(default_factory=utc_now)
    base_model_id: str = ""  # hub id the configs and serving command use
    tokenizer: str = ""  # where the tokenizer was loaded from
    model_type: str = ""  # config.json model_type of the base model
    template_kwargs: dict[str, bool] = Field(default_factory=dict)  # chat template kwargs (reasoning off)
    litgpt: dict[str, str] = Field(default_factory=dict)  # repo_id, checkpoint_dir, prompt_style, version
    token_stats: dict[str, dict[str, float]] = Field(default_factory=dict)  # expert -> figures
    excluded: dict[str, int] = Field(default_factory=dict)  # reason -> pairs not exported
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- train


class TrainConfigFile(Record):
    """export/<expert>/config/trl.yaml: what `synth train` and `synth validate` run."""

    base_model: str  # hub id or local folder the real model loads from
    expert: str
    data_files: dict[str, str]  # split -> packed parquet, relative to the export folder
    jsonl_files: dict[str, str] = Field(default_factory=dict)  # the same pairs as TRL JSONL
    jsonl_sft: dict[str, object] = Field(default_factory=dict)  # sft overrides for jsonl_files
    lora: dict[str, object]  # peft.LoraConfig kwargs
    sft: dict[str, object]  # trl.SFTConfig kwargs
    expected_optimizer_steps: int = 0
    memory: dict[str, object] = Field(default_factory=dict)  # synth.export.memory plan


class TrainResult(Record):
    """One `synth train` run of one expert (reports/train_<expert>.{json,html})."""

    expert: str
    base_model: str
    model_kind: Literal["base", "tiny"]  # the real weights, or the tiny random CPU model
    device: str
    dtype: str = ""  # the dtype the model's weights were trained in (float32 on a CPU)
    adapter_dir: str
    steps: int
    train_loss: list[tuple[int, float]] = Field(default_factory=list)  # (step, loss)
    eval_loss: list[tuple[int, float]] = Field(default_factory=list)  # (step, val loss)
    figures: dict[str, float] = Field(default_factory=dict)  # tokens, seconds, tokens/s, ...
    adapter_problems: list[str] = Field(default_factory=list)  # why vLLM would refuse it
    problems: list[str] = Field(default_factory=list)  # why the run failed (empty: it passed)
    settings: dict[str, object] = Field(default_factory=dict)  # the SFTConfig values used
    accelerate_command: str = ""
    created_at: str = Field(default_factory=utc_now)


# ---------------------------------------------------------------- validate / router

CheckStatus = Literal["pass", "fail", "skipped"]


class ValidationCheck(Record):
    """One validation gate for one expert: trainer load, LoRA step, adapter, voice."""

    expert: str
    check: str  # trl_lora_step, adapter_servable, litgpt_load, litgpt_lora_step, voice, ids_match
    status: CheckStatus
    detail: str = ""
    figures: dict[str, float] = Field(default_factory=dict)


class ValidationReport(Record):
    run_dir: str
    base_model: str
    tokenizer: str | None = None
    checks: list[ValidationCheck] = Field(default_factory=list)
    created_at: str = Field(default_factory=utc_now)

    @property
    def failed(self) -> list[ValidationCheck]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, object]:
        """The figures `synth run` prints for the validate stage."""
        statuses = [c.status for c in self.checks]
        return {"passed": self.passed, "checks": len(statuses), "failed": statuses.count("fail"),
                "skipped": statuses.count("skipped")}


class RouterMetrics(Record):
    """The expert router's held-out figures (router/metrics.json)."""

    featurizer: Literal["minilm", "tfidf"]
    labels: list[str]
    train_count: int
    val_count: int
    accuracy: float | None = None  # None when val is empty
    macro_f1: float | None = None
    confusion: list[list[int]] = Field(default_factory=list)  # rows: true label, cols: predicted
    per_label_f1: dict[str, float] = Field(default_factory=dict)
    val_per_label: dict[str, int] = Field(default_factory=dict)  # the n behind each label's F1
    measured: bool = False  # enough val questions of every label for the figures to mean much
    note: str = ""  # why the figures are not a measurement, when they are not
    created_at: str = Field(default_factory=utc_now)
