"""reports/router.html: the router's held-out figures and its confusion matrix (PNG plot)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from synth.files import atomic_write_text
from synth.records import RouterMetrics
from synth.reports.html import esc, html_page, html_table


def plot_confusion(metrics: RouterMetrics, path: Path) -> Path:
    labels = metrics.labels
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    ax.imshow(metrics.confusion, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted expert")
    ax.set_ylabel("true expert")
    darkest = max((max(row) for row in metrics.confusion), default=0)
    for i, row in enumerate(metrics.confusion):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if count > darkest / 2 else "black")
    ax.set_title(f"router on val (accuracy {metrics.accuracy:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_router_html(path: Path, metrics: RouterMetrics) -> Path:
    featurizer = ("MiniLM sentence embeddings + logistic regression" if metrics.featurizer == "minilm"
                  else "TF-IDF + logistic regression (embed extra not installed)")
    intro = (f"<p>{esc(featurizer)}; {metrics.train_count} train and {metrics.val_count} val "
             "questions (the export's router split).</p>")
    if metrics.note:
        intro += f"<p class=warn>Held-out figures on {metrics.val_count} val questions: {esc(metrics.note)}.</p>"
    if metrics.accuracy is None:
        return atomic_write_text(path, html_page("Router", intro + "<p class=missing>No val "
                                                 "questions: no held-out figures.</p>"))
    figures = html_table(["figure", "value"], [
        [f"val accuracy (n={metrics.val_count})", f"{metrics.accuracy:.3f}"],
        [f"val macro-F1 (n={metrics.val_count})", f"{metrics.macro_f1:.3f}"],
        *[[f"F1 {esc(label)} (n={metrics.val_per_label.get(label, 0)})", f"{f1:.3f}"]
          for label, f1 in metrics.per_label_f1.items()]])
    confusion = html_table(["true \\ predicted", *metrics.labels], [
        [esc(label), *[str(c) for c in row]] for label, row in zip(metrics.labels, metrics.confusion)])
    plot = plot_confusion(metrics, path.with_name("router_confusion.png"))
    body = intro + figures + "<h2>Confusion matrix (val)</h2>" + confusion + \
        f'<img src="{esc(plot.name)}" alt="router confusion matrix">'
    return atomic_write_text(path, html_page("Router", body))
