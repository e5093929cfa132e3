"""A small run dir in the export layout (helper E's tests): segments, pairs, judged pairs,
curated splits, export/<expert>/{trl,litgpt}/{train,val}.jsonl, export/router, manifest.

All text is written here (no shared corpus). Each expert's questions use their own words so a
router can learn them.
"""
from __future__ import annotations

import json
from pathlib import Path

from synth.config import ExportConfig, RunConfig, ValidateConfig
from synth.files import write_jsonl
from synth.records import (
    CriterionScore,
    CuratedPair,
    ExportManifest,
    JudgedPair,
    Judgment,
    Pair,
    SafetyFlag,
    Segment,
    stable_id,
)
from synth.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]
SHARED_TOKENIZERS = REPO.parent / "shared" / "assets" / "tokenizers"
EXPERTS = ("therapeutic", "educational", "empathetic", "practical")
TOPICS = ("anxiety", "shame", "anger", "grief", "loneliness", "burnout", "panic", "guilt",
          "jealousy", "numbness", "fear of rejection", "people pleasing")
QUESTIONS = {
    "therapeutic": "Why does my {t} feel like it comes from my childhood, and how do I heal that old wound?",
    "educational": "What is {t} exactly, and what happens in the brain that explains it?",
    "empathetic": "I feel so alone with my {t} tonight, is it okay that I am hurting this much?",
    "practical": "What are three concrete steps I can take this week to manage my {t}?",
}
ANSWERS = {
    "therapeutic": "When {t} shows up, it often carries the memory of a younger you who had to adapt. "
                   "That reaction once kept you safe. Healing means noticing it gently, asking what that "
                   "part needed back then, and letting it learn, slowly, that today is different.",
    "educational": "{T} is a pattern the nervous system learns. The brain predicts threat from past "
                   "experience, so the body reacts before thinking catches up. You can recognise it by the "
                   "speed of the reaction compared with the size of the situation in front of you.",
    "empathetic": "It makes so much sense that {t} feels heavy right now. You are not too much and you "
                  "are not alone in this. Whatever you are feeling tonight is allowed, and you deserve "
                  "kindness while you carry it, especially from yourself.",
    "practical": "Start small with {t}. First, write down when it spikes for three days. Second, pick "
                 "one two-minute calming routine and practise it daily. Third, tell one trusted person "
                 "your plan so you have support when the week gets hard.",
}
SYSTEM = "You are a warm guide in the {e} style."


def tokenizer_dir(tmp_path: Path, base: str = "qwen3") -> Path:
    """The real tokenizer (Qwen3 bundled in assets/, Llama 3.1 from ../shared when present), else a
    tiny BPE tokenizer with a ChatML template."""
    real = (REPO / "assets" / "tokenizers" if base == "qwen3" else SHARED_TOKENIZERS) / base
    if (real / "tokenizer.json").exists():
        return real
    return build_tiny_tokenizer(tmp_path / f"tiny-tokenizer-{base}")


def build_tiny_tokenizer(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [a.format(t=t, T=t.capitalize()) for a in ANSWERS.values() for t in TOPICS]
    corpus += [q.format(t=t) for q in QUESTIONS.values() for t in TOPICS]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    fast.save_pretrained(str(folder))
    return folder


def _pair(expert: str, index: int) -> tuple[Segment, Pair]:
    topic = TOPICS[index % len(TOPICS)]
    answer = ANSWERS[expert].format(t=topic, T=topic.capitalize()) + f" (note {index})"
    seg_id = stable_id("seg", expert, str(index))
    segment = Segment(segment_id=seg_id, source_file="fixture.jsonl", record_index=index,
                      source_id=f"video-{expert}-{index % 4}", style=expert, raw_style=expert,
                      confidence=0.9, text=answer, original_text=answer,
                      word_count=len(answer.split()))
    question = QUESTIONS[expert].format(t=topic) + ("" if index < len(TOPICS) else f" ({index})")
    pair = Pair(pair_id=stable_id("pair", expert, str(index)), segment_id=seg_id,
                source_id=segment.source_id, expert=expert, question=question, answer=answer,
                question_type="fixture", generator="offline", generator_model="offline",
                prompt_hash="fixture")
    return segment, pair


def _judged(pair: Pair, index: int) -> JudgedPair:
    score = 3 + index % 3
    judgment = Judgment(pair_id=pair.pair_id, rubric_id="default", rubric_version="1",
                        rubric_hash="h", judge_model="offline", status="ok",
                        scores={"answerability": CriterionScore(score=score, rationale=f"fits ({index})"),
                                "style_fit": CriterionScore(score=4, rationale="<b>warm</b> & clear")},
                        safety_flags=[SafetyFlag(kind="other", quote="x")] if index == 1 else [])
    return JudgedPair(pair=pair, judgment=judgment, accepted=index % 7 != 6,
                      reasons=[] if index % 7 != 6 else ["below_threshold:answerability"])


def trl_row(pair: Pair, base: str) -> dict:
    row = {"id": pair.pair_id, "expert": pair.expert,
           "prompt": [{"role": "system", "content": SYSTEM.format(e=pair.expert)},
                      {"role": "user", "content": pair.question}],
           "completion": [{"role": "assistant", "content": pair.answer}]}
    if base == "qwen3":
        row["chat_template_kwargs"] = {"enable_thinking": False}
    return row


def litgpt_row(pair: Pair) -> dict:
    return {"instruction": pair.question, "input": "", "output": pair.answer, "id": pair.pair_id,
            "expert": pair.expert, "sys_prompt": SYSTEM.format(e=pair.expert)}


def _write_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def make_run(tmp_path: Path, base: str = "qwen3", per_expert: int = 8, val_every: int = 4,
             lora_step: bool = False, experts: tuple[str, ...] = EXPERTS,
             real_export: bool = False) -> tuple[RunConfig, RunDir]:
    """A run dir holding every file the validate/router/review/report stages read
    (real_export: export/ written by synth's own export stage: packed parquet, configs)."""
    tok = tokenizer_dir(tmp_path, base)
    config = RunConfig(run_dir=str(tmp_path / "run"), experts=str(REPO / "configs" / "experts.yaml"),
                       export=ExportConfig(base_model=base, tokenizer=str(tok), max_seq_len=512),
                       validate=ValidateConfig(litgpt_venv=str(REPO / ".venv-litgpt"),
                                               run_lora_step=lora_step))
    run = RunDir(config.run_dir)
    segments, pairs, judged, curated = [], [], [], []
    for expert in experts:
        for index in range(per_expert):
            segment, pair = _pair(expert, index)
            segments.append(segment)
            pairs.append(pair)
            judged.append(_judged(pair, index))
            split = "val" if index % val_every == val_every - 1 else "train"
            curated.append(CuratedPair(pair=pair, split=split))
    write_jsonl(run.segments, segments)
    write_jsonl(run.pairs, pairs)
    write_jsonl(run.path("judged.jsonl"), judged)
    for split in ("train", "val"):
        write_jsonl(run.path("curated", f"{split}.jsonl"), [c for c in curated if c.split == split])
    write_export(run, curated, base, experts)
    if real_export:
        from synth.export.stage import run_export

        run_export(config, run, curated)
    return config, run


def write_export(run: RunDir, curated: list[CuratedPair], base: str, experts: tuple[str, ...]) -> None:
    counts: dict[str, dict[str, int]] = {}
    for expert in experts:
        for split in ("train", "val"):
            mine = [c.pair for c in curated if c.pair.expert == expert and c.split == split]
            counts.setdefault(expert, {})[split] = len(mine)
            _write_rows(run.path("export", expert, "trl", f"{split}.jsonl"), [trl_row(p, base) for p in mine])
            _write_rows(run.path("export", expert, "litgpt", f"{split}.jsonl"), [litgpt_row(p) for p in mine])
    for split in ("train", "val"):
        _write_rows(run.path("export", "router", f"{split}.jsonl"),
                    [{"text": c.pair.question, "label": c.pair.expert} for c in curated if c.split == split])
    manifest = ExportManifest(base_model=base, tokenizer_hash="fixture", max_seq_len=512,
                              experts=counts, files={})
    run.path("export", "manifest.json").write_text(manifest.model_dump_json(indent=2))
