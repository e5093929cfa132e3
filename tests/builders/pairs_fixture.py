"""JudgedPair test inputs for curate/pack/export tests (all text made up here), tokenizers.

Answers are seeded word sequences from a plain English word list, so two answers never share
5-word shingles by chance; duplicates are made on purpose by the tests.
"""

from __future__ import annotations

import random
from pathlib import Path

from synth.config import RunConfig, load_config
from synth.records import CheckResult, CriterionScore, JudgedPair, Judgment, Pair, stable_id

REPO = Path(__file__).resolve().parents[2]
SHARED_TOKENIZERS = REPO.parent / "shared" / "assets" / "tokenizers"
BUNDLED_TOKENIZERS = REPO / "assets" / "tokenizers"
EXPERTS = ("therapeutic", "educational", "empathetic", "practical")
CRITERIA = ("alignment", "authenticity", "style_fit", "safety", "voice")
WORDS = """feeling body memory safety trust anger shame grief calm breath habit pattern routine
boundary partner parent child friend work sleep morning evening week moment habitually gently
slowly notice practice write speak listen walk rest pause return choose allow learn repeat
small steady warm honest clear quiet heavy light strong tired early late often rarely always
because when while after before during until although since therefore however meanwhile
nervous system brain signal threat response pressure tension release comfort support plan
step list question answer story voice silence room door window kitchen garden street city
river mountain season winter summer spring autumn coffee tea letter phone message journal
kindness patience courage fear hope doubt worry relief joy sadness loneliness connection
""".split()
QUESTION_STARTS = (
    "Why do I",
    "How can I",
    "What does it mean when I",
    "Is it normal that I",
    "What should I do when I",
    "How do I stop",
    "Why does my",
)


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def answer_text(rng: random.Random, count: int) -> str:
    sentences, left = [], count
    while left > 0:
        n = min(left, rng.randint(8, 16))
        sentences.append(words(rng, n).capitalize() + ".")
        left -= n
    return " ".join(sentences)


def question_text(rng: random.Random) -> str:
    return f"{rng.choice(QUESTION_STARTS)} {words(rng, rng.randint(6, 14))}?"


def judged_pair(
    expert: str,
    video: str,
    index: int,
    *,
    question: str | None = None,
    answer: str | None = None,
    segment: str | None = None,
    accepted: bool = True,
    reasons: tuple[str, ...] = (),
    score: int = 4,
    confidence: float | None = 0.9,
    answer_words: int = 60,
) -> JudgedPair:
    rng = random.Random(f"{expert}-{video}-{index}")
    question = question or question_text(rng)
    answer = answer or answer_text(rng, answer_words)
    segment = segment or stable_id("seg", expert, video, str(index))
    pair_id = stable_id("pair", expert, video, str(index), question)
    pair = Pair(
        pair_id=pair_id,
        segment_id=segment,
        source_id=video,
        expert=expert,
        question=question,
        answer=answer,
        question_type="test",
        generator="offline",
        generator_model="offline",
        prompt_hash="p" * 16,
        confidence=confidence,
    )
    judgment = Judgment(
        pair_id=pair_id,
        rubric_id="default",
        rubric_version="1",
        rubric_hash="r" * 16,
        judge_model="offline",
        status="ok",
        scores={c: CriterionScore(score=score, rationale="test") for c in CRITERIA},
    )
    checks = [CheckResult(name="lexical_overlap", score=0.3, passed=True, reason="test")]
    return JudgedPair(
        pair=pair, judgment=judgment, checks=checks, accepted=accepted, reasons=list(reasons)
    )


def corpus(per_expert: int = 24, videos: int = 8, answer_words: int = 60) -> list[JudgedPair]:
    """per_expert pairs per expert spread over `videos` videos; videos mix experts."""
    pairs = []
    for e, expert in enumerate(EXPERTS):
        for i in range(per_expert):
            video = f"video-{(i + e) % videos}"
            pairs.append(judged_pair(expert, video, i, answer_words=answer_words + (i * 7) % 40))
    return pairs


def run_config(
    tmp_path: Path, tokenizer: Path | str | None = None, base: str = "qwen3", **curate: object
) -> RunConfig:
    sets = [
        f"run_dir={tmp_path / 'run'}",
        f"experts={REPO / 'configs' / 'experts.yaml'}",
        "curate.semantic=false",
        f"export.base_model={base}",
        "export.max_seq_len=1024",
    ]
    if tokenizer is not None:
        sets.append(f"export.tokenizer={tokenizer}")
    sets += [f"curate.{k}={v}" for k, v in curate.items()]
    return load_config(None, sets)


def real_tokenizer(base: str) -> Path | None:
    """The real tokenizer: Qwen3 is bundled in the repo (assets/), Llama 3.1 only in ../shared."""
    folder = (BUNDLED_TOKENIZERS if base == "qwen3" else SHARED_TOKENIZERS) / base
    return folder if (folder / "tokenizer.json").exists() else None


def tiny_tokenizer(folder: Path) -> Path:
    """A tiny byte-level BPE tokenizer with a ChatML template (reference.md section 6)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if (folder / "tokenizer.json").exists():
        return folder
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    rng = random.Random(0)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([answer_text(rng, 80) for _ in range(200)] + list(WORDS), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    fast.save_pretrained(str(folder))
    return folder
