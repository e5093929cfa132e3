"""reports/train_<expert>.{json,html}: the run's settings, figures, loss curves and adapter checks."""

from __future__ import annotations

from pathlib import Path

from synth.files import atomic_write_text
from synth.records import TrainResult


def write_train_report(reports: Path, result: TrainResult) -> Path:
    """Write the JSON record, the loss plot and the HTML page; return the HTML path."""
    # imported here: the synth.reports package pulls in the run report, which reads validate
    from synth.reports.html import Image, Section, Table, to_html
    from synth.reports.plots import curves

    name = f"train_{result.expert}"
    atomic_write_text(reports / f"{name}.json", result.model_dump_json(indent=2))
    plot = curves({"train loss": result.train_loss, "val loss": result.eval_loss},
                  reports / f"{name}_loss.png", f"{result.expert}: loss per optimizer step",
                  "optimizer step", "loss (nats per trained token)")
    kind = ("the base model's weights" if result.model_kind == "base"
            else "a tiny random model of the base model's architecture (CPU check, not a real adapter)")
    verdict = ("pass: the loss fell, every lora_B weight moved and the adapter loads"
               if not result.problems else "FAILED: " + "; ".join(result.problems))
    sections = [
        Section("Verdict", [verdict]),
        Section("Run", [f"Expert {result.expert} on {result.base_model}: {kind}, on {result.device}"
                        + (f" in {result.dtype}." if result.dtype else "."),
                        f"Adapter: {result.adapter_dir}",
                        Table(["figure", "value"], [[k, v] for k, v in result.figures.items()])]),
        Section("Loss", [Image(plot.name, "train and val loss") if plot else "no loss logged"]),
        Section("Adapter", ["vLLM LoRA loader checks: "
                            + ("pass" if not result.adapter_problems else "; ".join(result.adapter_problems))]),
        Section("Settings (trl.SFTConfig, from config/trl.yaml)",
                [Table(["setting", "value"], [[k, v] for k, v in result.settings.items()])]),
    ]
    if result.accelerate_command:
        sections.append(Section("Several GPUs", [result.accelerate_command]))
    path = reports / f"{name}.html"
    atomic_write_text(path, to_html(f"synth train: {result.expert}", sections))
    return path
