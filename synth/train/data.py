"""The packed parquet `synth export` wrote, checked and handed to TRL as it is.

Each row holds several examples back to back (synth.export.pack): `input_ids`, `labels` (-100
outside each assistant answer), `position_ids` restarting at 0 per example and `seq_lengths`.
TRL's padding-free collator takes `input_ids`, `labels` and `seq_lengths` (it rebuilds the
same position_ids and the flash-attention `cu_seq_lens` from them), so nothing is tokenized
or packed a second time. Before training every row is checked: equal column lengths,
seq_lengths summing to the row, position_ids restarting exactly at each example, no label on
an example's first token, at least one trained token, ids inside the vocabulary. A bad row
raises InputError naming the file, row and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import InputError

COLUMNS = ("input_ids", "labels", "position_ids", "seq_lengths")
TRAINER_COLUMNS = ["input_ids", "labels", "seq_lengths"]
IGNORE = -100


def read_packed(path: Path) -> Any:
    """The parquet table, with its rows checked (pyarrow.Table)."""
    import pyarrow.parquet as pq

    if not path.exists():
        raise InputError("packed parquet not found (run synth export first)", file=str(path))
    table = pq.read_table(path)
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=str(path))
    if table.num_rows == 0:
        raise InputError("no rows", file=str(path))
    return table


def check_rows(table: Any, path: Path, vocab_size: int) -> dict[str, int]:
    """Check every row; the figures of the file (rows, tokens, trained tokens, examples)."""
    columns = {c: table.column(c).to_pylist() for c in COLUMNS}
    tokens = trained = examples = 0
    for index in range(table.num_rows):
        ids, labels, positions, lengths = (np.asarray(columns[c][index]) for c in COLUMNS)
        problem, field = _row_problem(ids, labels, positions, lengths, vocab_size)
        if problem:
            raise InputError(problem, file=str(path), record=index, field=field)
        tokens += ids.size
        trained += int((labels != IGNORE).sum())
        examples += lengths.size
    return {"rows": table.num_rows, "tokens": tokens, "trained_tokens": trained,
            "examples": examples}


def _row_problem(ids: np.ndarray, labels: np.ndarray, positions: np.ndarray,
                 lengths: np.ndarray, vocab_size: int) -> tuple[str, str]:
    if not ids.size or labels.size != ids.size or positions.size != ids.size:
        return "input_ids, labels and position_ids differ in length (or are empty)", "labels"
    if lengths.size == 0 or int(lengths.sum()) != ids.size or (lengths <= 0).any():
        return f"seq_lengths sum to {int(lengths.sum())}, the row has {ids.size} tokens", "seq_lengths"
    expected = np.arange(ids.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if not np.array_equal(positions, expected):
        return "position_ids do not restart at 0 at each example of seq_lengths", "position_ids"
    if (labels[positions == 0] != IGNORE).any():
        return "an example's first token has a label (loss would cross examples)", "labels"
    if not (labels != IGNORE).any():
        return "no trained token (every label is -100)", "labels"
    if ids.min() < 0 or ids.max() >= vocab_size:
        return f"token id {int(ids.max())} outside the vocabulary ({vocab_size})", "input_ids"
    return "", ""


def packed_dataset(path: Path, vocab_size: int) -> tuple[Any, dict[str, int]]:
    """A `datasets.Dataset` of the checked rows (the columns TRL reads) and its figures."""
    from datasets import Dataset

    table = read_packed(path)
    figures = check_rows(table, path, vocab_size)
    return Dataset(table.select(TRAINER_COLUMNS)), figures
