"""Chat rendering, exact token counts, assistant-only masks and best-fit-decreasing packing.

Runs on the real Qwen3 and Llama 3.1 tokenizers (Qwen3 bundled in assets/; Llama skipped when
../shared is absent) and on a tiny BPE tokenizer with a ChatML template built here.
"""

from __future__ import annotations

import random

import pyarrow.parquet as pq
import pytest
from pairs_fixture import answer_text, question_text, real_tokenizer, tiny_tokenizer

from synth.errors import ExportError
from synth.export.chat import (
    ChatRenderer,
    assistant_span,
    chat_messages,
    common_prefix_len,
    load_chat_tokenizer,
)
from synth.export.pack import (
    IGNORE_INDEX,
    ChatExample,
    best_fit_decreasing,
    encode_examples,
    pack_rows,
    write_packed_parquet,
)

SYSTEM = "You are a calm guide. Answer warmly and plainly."


@pytest.fixture(scope="session", params=["qwen3", "llama3_1", "tiny"])
def chat(request, tmp_path_factory):
    if request.param == "tiny":
        folder = tiny_tokenizer(tmp_path_factory.mktemp("tok") / "tiny")
    else:
        folder = real_tokenizer(request.param)
        if folder is None:
            assert request.param != "qwen3", "the bundled assets/tokenizers/qwen3 is missing"
            pytest.skip(f"../shared/assets/tokenizers/{request.param} is not present")
    return load_chat_tokenizer(folder)


def examples(
    n: int, seed: int = 0, system: str | None = SYSTEM, split: str = "train"
) -> list[ChatExample]:
    rng = random.Random(seed)
    return [
        ChatExample(
            f"ex{seed}-{i}",
            "empathetic",
            split,
            system,
            question_text(rng),
            answer_text(rng, rng.randint(20, 200)),
        )
        for i in range(n)
    ]


def own_ids(chat, example: ChatExample) -> list[int]:
    encoded = chat.tokenizer.apply_chat_template(
        chat_messages(example.system, example.question, example.answer),
        tokenize=True,
        **chat.template_kwargs,
    )
    return list(encoded["input_ids"])


def test_token_counts_equal_the_tokenizers_own(chat):
    sample = examples(12) + examples(4, seed=1, system=None)
    result = encode_examples(ChatRenderer(chat), sample, max_seq_len=4096)
    assert not result.dropped
    for encoded in result.kept:
        assert encoded.input_ids.tolist() == own_ids(chat, encoded.example)
        assert encoded.full_tokens == encoded.input_ids.size


def test_unmasked_labels_decode_to_answer_plus_end_token(chat):
    result = encode_examples(
        ChatRenderer(chat), examples(10) + examples(3, seed=2, system=None), 4096
    )
    eos = chat.tokenizer.eos_token
    for encoded in result.kept:
        trained = encoded.input_ids[encoded.labels != IGNORE_INDEX]
        assert chat.tokenizer.decode(trained.tolist()) == encoded.example.answer + eos
        assert (encoded.labels[encoded.labels != IGNORE_INDEX] == trained).all()
        assert encoded.labels[0] == IGNORE_INDEX  # never a loss across an example boundary


def test_qwen3_think_block_belongs_to_the_prompt():
    folder = real_tokenizer("qwen3")
    if folder is None:
        pytest.skip("qwen3 tokenizer not present")
    chat = load_chat_tokenizer(folder)
    assert chat.template_kwargs == {"enable_thinking": False}
    prompt, full = ChatRenderer(chat).render(SYSTEM, "Why?", "Because.")
    assert prompt.endswith("<think>\n\n</think>\n\n") and full.startswith(prompt)


def test_llama_has_one_bos():
    folder = real_tokenizer("llama3_1")
    if folder is None:
        pytest.skip("llama3_1 tokenizer not present")
    chat = load_chat_tokenizer(folder)
    encoded = encode_examples(ChatRenderer(chat), examples(2), 4096).kept[0]
    bos = chat.tokenizer.bos_token_id
    assert encoded.input_ids[0] == bos and encoded.input_ids[1] != bos


@pytest.mark.parametrize(
    "question,answer",
    [
        ("  padded question?  ", "An answer with trailing space. "),
        ("Is a < b {really}?", "Yes | no, see <this> and {that}."),
        ("Line one\nline two?", "Para one.\n\nPara two."),
        ("Unicode: café, naïve, 😊?", "Emoji 😊 and accents é à ü."),
    ],
)
def test_fast_render_matches_exact_render(chat, question, answer):
    renderer = ChatRenderer(chat)
    for system in (SYSTEM, None):
        got = renderer.render(system, question, answer)
        expected = (
            renderer.render_exact(chat_messages(system, question), True),
            renderer.render_exact(chat_messages(system, question, answer), False),
        )
        assert got == expected


def test_sampled_verification_keeps_fast_path_on(chat):
    renderer = ChatRenderer(chat)
    encode_examples(renderer, examples(300), 4096)
    assert renderer.fast_enabled and renderer.fast_count == 300 and renderer.verified >= 3


def test_prompt_ids_shortcut_equals_tokenizing_the_prompt(chat):
    renderer = ChatRenderer(chat)
    sample = examples(150) + examples(50, seed=4, system=None)
    rendered = [renderer.render_pair(e.system, e.question, e.answer) for e in sample]
    assert all(r.skeleton is not None for r in rendered)
    full = chat.encode_batch([r.full for r in rendered])
    assert renderer.prompt_ids(rendered, full) == chat.encode_batch([r.prompt for r in rendered])
    assert renderer.shortcut_enabled


def test_overlength_drop_and_truncate_are_recorded(chat):
    sample = examples(6)
    lengths = [e.input_ids.size for e in encode_examples(ChatRenderer(chat), sample, 100_000).kept]
    limit = sorted(lengths)[3]
    dropped = encode_examples(ChatRenderer(chat), sample, limit, "drop")
    assert {d.reason for d in dropped.dropped} == {"overlength"}
    assert len(dropped.kept) + len(dropped.dropped) == len(sample)
    assert all(e.input_ids.size <= limit for e in dropped.kept)
    truncated = encode_examples(ChatRenderer(chat), sample, limit, "truncate")
    assert len(truncated.kept) == len(sample)
    cut = [e for e in truncated.kept if e.truncated]
    assert cut and all(e.input_ids.size == limit and e.full_tokens > limit for e in cut)


def test_prompt_longer_than_limit_is_dropped_even_when_truncating(chat):
    long_question = question_text(random.Random(5)) + " " + answer_text(random.Random(6), 300)
    sample = [ChatExample("long", "practical", "train", SYSTEM, long_question, "Short answer.")]
    result = encode_examples(ChatRenderer(chat), sample, 64, "truncate")
    assert [d.reason for d in result.dropped] == ["prompt_overlength"]


def test_special_token_text_is_dropped_with_reason(chat):
    text = f"Try this {chat.tokenizer.eos_token} trick."
    sample = [ChatExample("sp", "practical", "train", SYSTEM, "How?", text)] + examples(2)
    result = encode_examples(ChatRenderer(chat), sample, 4096)
    assert [(d.example.id, d.reason) for d in result.dropped] == [("sp", "special_token_text")]


def test_packing_loses_and_repeats_no_token(chat, tmp_path):
    result = encode_examples(ChatRenderer(chat), examples(120), 4096)
    max_len = 1024
    packed = pack_rows(result.kept, max_len)
    assert packed.tokens == sum(e.input_ids.size for e in result.kept)
    path = write_packed_parquet(tmp_path / "rows.parquet", packed)
    table = pq.read_table(path).to_pylist()
    assert len(table) == packed.rows
    by_id = {e.example.id: e for e in result.kept}
    seen = []
    for row in table:
        assert len(row["input_ids"]) == len(row["labels"]) == len(row["position_ids"]) <= max_len
        assert sum(row["seq_lengths"]) == len(row["input_ids"])
        offset = 0
        for example_id, length in zip(row["example_ids"], row["seq_lengths"]):
            encoded = by_id[example_id]
            assert row["input_ids"][offset : offset + length] == encoded.input_ids.tolist()
            assert row["labels"][offset : offset + length] == encoded.labels.tolist()
            assert row["position_ids"][offset : offset + length] == list(range(length))
            offset += length
        seen += row["example_ids"]
    assert sorted(seen) == sorted(by_id)


def test_best_fit_decreasing_properties():
    rng = random.Random(3)
    lengths = [rng.randint(100, 1200) for _ in range(3000)]
    bins = best_fit_decreasing(lengths, 4096)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 4096 for b in bins)
    assert sum(lengths) / (len(bins) * 4096) >= 0.99
    with pytest.raises(ValueError):
        best_fit_decreasing([5000], 4096)


def test_common_prefix_and_span():
    assert common_prefix_len([1, 2, 3], [1, 2, 3, 4]) == 3
    assert common_prefix_len([1, 2, 9], [1, 2, 3, 4]) == 2
    assert common_prefix_len([], [1]) == 0
    assert assistant_span([1, 2], [1, 2, 7, 8, 0, 5], eos_id=0) == (2, 5)


def test_empty_split_packs_to_no_rows(tmp_path):
    packed = pack_rows([], 512)
    assert packed.rows == 0 and packed.utilisation == 0.0
    assert pq.read_table(write_packed_parquet(tmp_path / "e.parquet", packed)).num_rows == 0


def test_missing_tokenizer_is_a_clear_export_error(tmp_path):
    with pytest.raises(ExportError, match="cannot load the tokenizer"):
        load_chat_tokenizer(tmp_path / "no-such-tokenizer")
