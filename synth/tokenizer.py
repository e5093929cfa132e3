"""The one tokenizer loader: a local tokenizer folder (tokenizer.json + tokenizer_config.json) or a
hub id, through transformers' AutoTokenizer. A tokenizer that cannot be loaded raises a ConfigError
naming the source and the config key that points at it (the caller may ask for another SynthError
subclass, e.g. ExportError during export)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.errors import ConfigError, SynthError


def load_tokenizer(source: str | Path, *, key: str = "export.tokenizer",
                   error: type[SynthError] = ConfigError) -> Any:
    """A transformers tokenizer from a folder or hub id (HF_HUB_OFFLINE is honoured)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(source))
    except (OSError, ValueError) as exc:
        message = (f"cannot load the tokenizer {str(source)!r}: {exc}. Set {key} to a local "
                   "tokenizer folder or allow hub access")
        raise (ConfigError(message, key=key) if error is ConfigError else error(message)) from None


def count_tokens(source: str | Path, texts: list[str], *, key: str = "export.tokenizer") -> list[int]:
    """Token counts of texts without special tokens; tokenizer.json alone is enough (fast path)."""
    folder = Path(source)
    if (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        fast = Tokenizer.from_file(str(folder / "tokenizer.json"))
        return [len(e.ids) for e in fast.encode_batch(texts, add_special_tokens=False)]
    tokenizer = load_tokenizer(source, key=key)
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
