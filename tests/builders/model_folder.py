"""A local model folder of another architecture: a real config.json (Gemma-2-9B, no weights)
and a tiny BPE tokenizer with a Gemma-style chat template that writes its own BOS."""
from __future__ import annotations

import json
import random
from pathlib import Path

from model_configs import GEMMA_2_9B
from pairs_fixture import WORDS, answer_text

GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def gemma_like_folder(folder: Path, template: str = GEMMA_TEMPLATE, adds_bos: bool = True) -> Path:
    """config.json of Gemma-2-9B + a tiny tokenizer (bos <bos>, eos <end_of_turn>, pad <pad>)
    whose post-processor adds a BOS to plain text, like Gemma's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if (folder / "config.json").exists():
        return folder
    specials = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    rng = random.Random(1)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([answer_text(rng, 80) for _ in range(200)] + list(WORDS), trainer)
    if adds_bos:
        bos = tok.token_to_id("<bos>")
        tok.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A $B",
                                                           special_tokens=[("<bos>", bos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>",
                                   eos_token="<end_of_turn>", pad_token="<pad>")
    fast.chat_template = template
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    (folder / "config.json").write_text(json.dumps(GEMMA_2_9B, indent=2), encoding="utf-8")
    return folder
