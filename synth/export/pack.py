"""Tokenize chat examples exactly, mask to the assistant span, pack rows by best-fit decreasing.

Rows are for padding-free training: one row holds several examples back to back,
`position_ids` restart at 0 for each, `labels` are -100 on prompts and template text (so also
on each example's first token: no loss crosses an example boundary). Labels are not shifted
(the model shifts them). Feed a row as one [1, N] sequence with no attention_mask and
`use_cache=False` so attention stays inside each example (see the dataset card).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.export.chat import ChatRenderer, assistant_span

IGNORE_INDEX = -100
ENCODE_CHUNK = 2048


@dataclass(frozen=True)
class ChatExample:
    """One pair as the model sees it: the same id, expert and split in every export format."""

    id: str
    expert: str
    split: str
    system: str | None
    question: str
    answer: str
    generation: str | None = None  # the pair's generation set (kept on every exported row)


@dataclass
class Encoded:
    example: ChatExample
    input_ids: np.ndarray  # int32, the tokenizer's own ids for the rendered conversation
    labels: np.ndarray  # int32, IGNORE_INDEX outside the assistant span
    prompt_tokens: int
    trained_tokens: int
    full_tokens: int  # before truncation
    truncated: int = 0  # tokens cut by the truncate policy


@dataclass
class Dropped:
    example: ChatExample
    reason: str  # overlength, prompt_overlength, special_token_text
    detail: str


@dataclass
class EncodeResult:
    kept: list[Encoded] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


Progress = Callable[[int, int], None]


def encode_examples(
    renderer: ChatRenderer,
    examples: list[ChatExample],
    max_seq_len: int,
    overlength: str = "drop",
    progress: Progress | None = None,
) -> EncodeResult:
    """Render, tokenize and mask every example; apply the over-length policy (recorded)."""
    result = EncodeResult()
    for done, chunk in enumerate(_chunks(examples, ENCODE_CHUNK)):
        if progress:
            progress(min(done * ENCODE_CHUNK, len(examples)), len(examples))
        usable = []
        for example in chunk:
            special = _special_text(renderer, example)
            if special:
                result.dropped.append(
                    Dropped(
                        example,
                        "special_token_text",
                        f"text contains the special token {special!r}",
                    )
                )
            else:
                usable.append(example)
        _encode_chunk(renderer, usable, max_seq_len, overlength, result)
    if progress:
        progress(len(examples), len(examples))
    return result


def _special_text(renderer: ChatRenderer, example: ChatExample) -> str | None:
    texts = (example.question, example.answer, example.system or "")
    return next((s for s in map(renderer.chat.special_text_in, texts) if s), None)


def _chunks(items: list[ChatExample], size: int) -> Iterator[list[ChatExample]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _encode_chunk(
    renderer: ChatRenderer,
    chunk: list[ChatExample],
    max_seq_len: int,
    overlength: str,
    result: EncodeResult,
) -> None:
    rendered = [renderer.render_pair(e.system, e.question, e.answer) for e in chunk]
    full_ids = renderer.chat.encode_rendered([r.full for r in rendered])
    prompt_ids = renderer.prompt_ids(rendered, full_ids)
    for example, prompt, full in zip(chunk, prompt_ids, full_ids):
        start, end = assistant_span(prompt, full, renderer.chat.eos_id)
        outcome = _apply_policy(example, full, start, end, max_seq_len, overlength)
        (result.dropped if isinstance(outcome, Dropped) else result.kept).append(outcome)


def _apply_policy(
    example: ChatExample, full: list[int], start: int, end: int, max_seq_len: int, overlength: str
) -> Encoded | Dropped:
    total = len(full)
    if total > max_seq_len and (overlength == "drop" or start >= max_seq_len):
        reason = "overlength" if start < max_seq_len else "prompt_overlength"
        return Dropped(
            example,
            reason,
            f"{total} tokens > max_seq_len {max_seq_len} (prompt {start}); policy {overlength}",
        )
    ids = np.asarray(full[:max_seq_len], dtype=np.int32)
    labels = ids.copy()
    labels[:start] = IGNORE_INDEX
    labels[min(end, len(ids)) :] = IGNORE_INDEX
    return Encoded(
        example,
        ids,
        labels,
        prompt_tokens=start,
        trained_tokens=int(max(0, min(end, len(ids)) - start)),
        full_tokens=total,
        truncated=max(0, total - max_seq_len),
    )


def token_stats(encoded: Sequence[Encoded]) -> dict[str, float]:
    if not encoded:
        return {"examples": 0}
    lengths = np.array([e.input_ids.size for e in encoded])
    return {
        "examples": len(encoded),
        "tokens": int(lengths.sum()),
        "mean_tokens": round(float(lengths.mean()), 1),
        "p50_tokens": float(np.percentile(lengths, 50)),
        "p95_tokens": float(np.percentile(lengths, 95)),
        "max_tokens": int(lengths.max()),
        "trained_tokens": int(sum(e.trained_tokens for e in encoded)),
        "truncated_examples": sum(e.truncated > 0 for e in encoded),
    }


# ---------------------------------------------------------------- best-fit decreasing


def best_fit_decreasing(lengths: list[int], capacity: int) -> list[list[int]]:
    """Bins of item indices: each item, longest first, goes to the fullest bin it fits."""
    if any(n > capacity or n <= 0 for n in lengths):
        raise ValueError(f"every length must be in 1..{capacity}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    free: list[int] = []  # remaining capacities, sorted ascending
    owner: list[int] = []  # bin index of each entry in `free`
    for item in order:
        size = lengths[item]
        pos = bisect.bisect_left(free, size)
        if pos < len(free):
            bin_index, left = owner.pop(pos), free.pop(pos) - size
        else:
            bin_index, left = len(bins), capacity - size
            bins.append([])
        bins[bin_index].append(item)
        if left > 0:
            at = bisect.bisect_left(free, left)
            free.insert(at, left)
            owner.insert(at, bin_index)
    return bins


@dataclass
class PackedRows:
    """Packed rows as flat arrays with row offsets (the parquet list layout)."""

    input_ids: np.ndarray
    labels: np.ndarray
    position_ids: np.ndarray
    row_offsets: np.ndarray  # int64, len rows + 1
    example_ids: list[list[str]]
    seq_lengths: list[list[int]]
    max_seq_len: int

    @property
    def rows(self) -> int:
        return len(self.example_ids)

    @property
    def tokens(self) -> int:
        return int(self.input_ids.size)

    @property
    def utilisation(self) -> float:
        return self.tokens / (self.rows * self.max_seq_len) if self.rows else 0.0


def pack_rows(encoded: list[Encoded], max_seq_len: int) -> PackedRows:
    """Pack examples into rows of at most max_seq_len tokens (no token lost or repeated)."""
    lengths = [int(e.input_ids.size) for e in encoded]
    bins = best_fit_decreasing(lengths, max_seq_len)
    order = [i for b in bins for i in b]
    seq_lengths = [[lengths[i] for i in b] for b in bins]
    empty = np.zeros(0, dtype=np.int32)
    input_ids = np.concatenate([encoded[i].input_ids for i in order]) if order else empty
    labels = np.concatenate([encoded[i].labels for i in order]) if order else empty
    ordered_lengths = np.asarray([lengths[i] for i in order], dtype=np.int64)
    starts = (
        np.concatenate([[0], np.cumsum(ordered_lengths)[:-1]]) if order else np.zeros(0, np.int64)
    )
    position_ids = (
        np.arange(input_ids.size, dtype=np.int64) - np.repeat(starts, ordered_lengths)
    ).astype(np.int32)
    row_offsets = np.concatenate([[0], np.cumsum([sum(s) for s in seq_lengths], dtype=np.int64)])
    return PackedRows(
        input_ids,
        labels,
        position_ids,
        row_offsets.astype(np.int64),
        [[encoded[i].example.id for i in b] for b in bins],
        seq_lengths,
        max_seq_len,
    )


def write_packed_parquet(path: Path, packed: PackedRows) -> Path:
    """input_ids, labels, position_ids (+ example_ids, seq_lengths) per row, as parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    offsets = pa.array(packed.row_offsets.astype(np.int32), type=pa.int32())

    def column(values: np.ndarray) -> pa.Array:
        return pa.ListArray.from_arrays(offsets, pa.array(values, type=pa.int32()))

    table = pa.table(
        {
            "input_ids": column(packed.input_ids),
            "labels": column(packed.labels),
            "position_ids": column(packed.position_ids),
            "example_ids": pa.array(packed.example_ids, type=pa.list_(pa.string())),
            "seq_lengths": pa.array(packed.seq_lengths, type=pa.list_(pa.int32())),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path
