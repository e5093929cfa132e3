"""Benchmark: tokenizer-aware packing vs the raw fast tokenizer, and packed-row utilisation.

  python bench/bench_pack.py [--tokenizer DIR] [--pairs 20000] [--max-seq-len 4096]

Makes a synthetic set of pairs with a realistic length mix (questions 8-40 words, answers
log-normal around 250 words, clipped to 40-600), renders them with the tokenizer's chat template
and measures in one process, alternating rounds (best of each):
  raw   the fast tokenizer batch-encoding the rendered conversations (`tok(texts)`, and the
        backend's encode_batch_fast), tokens/s
  pack  synth.pack.encode_examples (render, tokenize, assistant masks) + pack_rows
Targets: utilisation >= 0.99 at 4096 tokens; pack tokens/s >= 0.6 x raw tokens/s.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from synth.export.chat import ChatRenderer, chat_messages, load_chat_tokenizer
from synth.export.pack import ChatExample, encode_examples, pack_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TOKENIZER = REPO.parent / "shared" / "assets" / "tokenizers" / "qwen3"
WORDS = """you your feel feeling felt when what why how this that because often sometimes always
never really just about body mind heart safe safety fear anger shame guilt grief loss love hope
trust people person parent mother father child childhood family partner friend relationship
work morning night sleep tired anxious anxiety calm breath breathe notice pattern habit learn
healing heal hurt pain story memory past present future moment small step steps try practice
boundary boundaries say no yes need needs want wants support help alone together understand
brain nervous system signal threat response stress pressure tension release rest slow gentle
kind kindness patience courage honest clear quiet heavy light strong weak okay normal sense
makes happens learned keeps protect protecting adapt adapted survive survival younger older
today tomorrow week year time again first second third then next after before during while
can could would should might will do does did not is are was were be been have has had
the a an and or but so if to of in on at for with from into over under between through
""".split()
SYSTEM = (
    "You respond with warmth and validation. Acknowledge what the person feels, let them know "
    "it makes sense, and offer gentle hope."
)


def synthetic_pairs(count: int, seed: int = 0) -> list[ChatExample]:
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        words = int(min(600, max(40, rng.lognormvariate(5.4, 0.55))))
        answer = _sentences(rng, words)
        question = _sentences(rng, rng.randint(8, 40)).rstrip(".") + "?"
        pairs.append(ChatExample(f"p{i}", "empathetic", "train", SYSTEM, question, answer))
    return pairs


def _sentences(rng: random.Random, words: int) -> str:
    out, left = [], words
    while left > 0:
        n = min(left, rng.randint(6, 20))
        out.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
        left -= n
    return " ".join(out)


def raw_round(chat, texts: list[str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    ids = chat.tokenizer(texts, add_special_tokens=False)["input_ids"]
    hf_seconds = time.perf_counter() - started
    started = time.perf_counter()
    chat.tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    backend_seconds = time.perf_counter() - started
    return hf_seconds, backend_seconds, sum(map(len, ids))


def pack_round(chat, pairs: list[ChatExample], max_seq_len: int):
    started = time.perf_counter()
    encoded = encode_examples(ChatRenderer(chat), pairs, max_seq_len)
    packed = pack_rows(encoded.kept, max_seq_len)
    return time.perf_counter() - started, packed, encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--max-seq-len", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chat = load_chat_tokenizer(args.tokenizer)
    pairs = synthetic_pairs(args.pairs)
    renderer = ChatRenderer(chat)
    texts = [
        renderer.render_exact(chat_messages(p.system, p.question, p.answer), False) for p in pairs
    ]
    hf, backend, pack = [], [], []
    for _ in range(args.rounds):
        hf_s, backend_s, raw_tokens = raw_round(chat, texts)
        hf.append(hf_s)
        backend.append(backend_s)
        seconds, packed, encoded = pack_round(chat, pairs, args.max_seq_len)
        pack.append(seconds)
    if not encoded.dropped:  # the same texts: pack keeps every token the raw tokenizer made
        assert packed.tokens == raw_tokens, (packed.tokens, raw_tokens)
    raw_best = raw_tokens / min(min(hf), min(backend))
    pack_rate = packed.tokens / min(pack)
    print(f"tokenizer        {args.tokenizer}")
    print(
        f"pairs            {len(pairs)} ({len(encoded.dropped)} dropped), tokens {packed.tokens:,}"
    )
    print(f"raw tok(texts)   {raw_tokens / min(hf):,.0f} tokens/s ({min(hf):.2f} s)")
    print(f"raw backend      {raw_tokens / min(backend):,.0f} tokens/s ({min(backend):.2f} s)")
    steps = "render, tokenize, mask, pack"
    print(f"pack             {pack_rate:,.0f} tokens/s ({min(pack):.2f} s: {steps})")
    print(f"pack / raw       {pack_rate / raw_best:.3f} (vs the faster raw figure; target >= 0.6)")
    rows = f"{packed.rows} x {args.max_seq_len}"
    print(f"rows             {rows}, utilisation {packed.utilisation:.4f} (target >= 0.99)")


if __name__ == "__main__":
    main()
