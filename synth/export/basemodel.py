"""The base model behind `export.base_model`: an alias, a Hugging Face model id or a local folder.

  qwen3, llama3_1      aliases of Qwen/Qwen3-8B and meta-llama/Llama-3.1-8B-Instruct
  org/name             any hub model id (served and downloaded under that id)
  a local folder       holding config.json, the tokenizer files with a chat template and,
                       for training the real model, the weights (served from the folder)

The architecture comes from config.json: the folder's; else the local Hugging Face cache; else
the copy synth ships for the aliases' models (synth/export/models/); else the hub (unless
HF_HUB_OFFLINE is set). transformers fills the family defaults a config.json leaves out (tied
embeddings, head_dim, KV heads), so the memory model and the tiny CPU model see what
transformers would build. The tokenizer and chat template come from `export.tokenizer` when set,
else from the folder, else for a hub id from the local Hugging Face cache, else the copy the repo
ships in assets/tokenizers/ (Qwen3's, so the `qwen3` alias packs offline), else the hub.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import ConfigError
from synth.export.memory import ModelShape

ALIASES = {"qwen3": "Qwen/Qwen3-8B", "llama3_1": "meta-llama/Llama-3.1-8B-Instruct"}
BUNDLED = Path(__file__).with_name("models")  # <org>--<name>.json: config.json of the aliases
# the tokenizers the repository ships (assets/tokenizers/<name>; absent from a wheel install)
BUNDLED_TOKENIZERS = {"Qwen/Qwen3-8B": Path(__file__).resolve().parents[2] / "assets" / "tokenizers" / "qwen3"}
KEY = "export.base_model"


@dataclass(frozen=True)
class BaseModelSource:
    """Where the base model is, what it is called and its (normalised) config.json."""

    spec: str  # export.base_model as written
    hub_id: str | None  # org/name, when the model has one
    folder: Path | None  # a local model folder
    config: dict[str, Any] = field(repr=False)
    config_source: str = ""  # where config.json was read

    @property
    def model_type(self) -> str:
        text = self.config.get("text_config") or self.config
        return str(text.get("model_type") or self.config.get("model_type") or "")

    @property
    def name(self) -> str:
        """The model's short name (hub name or folder name), e.g. Qwen3-8B."""
        return self.hub_id.split("/")[-1] if self.hub_id else (self.folder.name if self.folder else self.spec)

    @property
    def serve_id(self) -> str:
        """What `vllm serve` and the trainers load: the hub id, or the folder's absolute path."""
        return self.hub_id or str(self.folder)

    def shape(self) -> ModelShape:
        return ModelShape.from_config(self.config, self.name, self.config_source)

    def tokenizer_source(self) -> str:
        """The folder when it holds a tokenizer; else the hub id when its tokenizer is in the
        Hugging Face cache; else the bundled copy; else the hub id (downloaded)."""
        if self.folder is not None and (self.folder / "tokenizer_config.json").exists():
            return str(self.folder)
        if self.hub_id is None:
            raise ConfigError(f"model folder {self.folder} has no tokenizer_config.json; set "
                              "export.tokenizer to a tokenizer folder", key="export.tokenizer")
        return hub_tokenizer(self.hub_id)


def hub_tokenizer(hub_id: str) -> str:
    """Where a hub model's tokenizer loads from without a download when it can: the hub id when
    the HF cache holds it, else the copy in assets/tokenizers/, else the hub id."""
    from huggingface_hub import try_to_load_from_cache

    bundled = BUNDLED_TOKENIZERS.get(hub_id)
    if isinstance(try_to_load_from_cache(hub_id, "tokenizer_config.json"), str) or bundled is None \
            or not (bundled / "tokenizer.json").is_file():
        return hub_id
    return str(bundled)


def is_hub_id(value: str) -> bool:
    return value.count("/") == 1 and not value.startswith((".", "/", "~")) and " " not in value


def resolve_base_model(spec: str, resolve: Callable[[str], Path], hub_id: str | None = None
                       ) -> BaseModelSource:
    """The base model named by export.base_model (hub_id: export.base_model_id, an override
    of the id the serving command and LitGPT download use)."""
    value = ALIASES.get(spec, spec)
    folder = Path(resolve(value)) if spec not in ALIASES else None
    if folder is not None and folder.is_dir():
        config_path = folder / "config.json"
        if not config_path.exists():
            raise ConfigError(f"model folder {folder} has no config.json", key=KEY)
        return BaseModelSource(spec, hub_id or _recorded_hub_id(folder), folder.absolute(),
                               normalise_config(_read_json(config_path), str(config_path)),
                               str(config_path))
    if not is_hub_id(value):
        raise ConfigError(f"{spec!r} is not an alias ({', '.join(ALIASES)}), a hub id (org/name) "
                          "or an existing model folder", key=KEY)
    config, source = hub_config(value)
    return BaseModelSource(spec, hub_id or value, None, normalise_config(config, source), source)


def _recorded_hub_id(folder: Path) -> str | None:
    """The hub id a downloaded folder records (config.json _name_or_path), if it is one."""
    name = _read_json(folder / "config.json").get("_name_or_path", "") if (folder / "config.json").exists() else ""
    return name if isinstance(name, str) and is_hub_id(name) and not Path(name).exists() else None


def hub_config(hub_id: str) -> tuple[dict[str, Any], str]:
    """config.json of a hub model: the HF cache, the copy bundled with synth, or the hub."""
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import HfHubHTTPError

    cached = try_to_load_from_cache(hub_id, "config.json")
    if isinstance(cached, str):
        return _read_json(Path(cached)), cached
    bundled = BUNDLED / f"{hub_id.replace('/', '--')}.json"
    if bundled.exists():  # the aliases' models: no network needed
        return _read_json(bundled), str(bundled)
    why = "HF_HUB_OFFLINE is set"
    if not constants.HF_HUB_OFFLINE:
        try:
            path = hf_hub_download(hub_id, "config.json")
            return _read_json(Path(path)), path
        except (OSError, ValueError, HfHubHTTPError) as exc:  # unreachable or gated
            why = f"the hub answered: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    raise ConfigError(f"no config.json for {hub_id!r}: not in the Hugging Face cache and not from "
                      f"the hub ({why}); set export.base_model to a local model folder "
                      "(config.json + tokenizer files)", key=KEY)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", file=str(path), key=KEY) from None
    if not isinstance(data, dict):
        raise ConfigError("config.json is not a JSON object", file=str(path), key=KEY)
    return data


def normalise_config(config: dict[str, Any], source: str = "config.json") -> dict[str, Any]:
    """config.json with the family defaults transformers applies (unknown families: as is)."""
    from transformers import AutoConfig

    model_type = config.get("model_type")
    if not isinstance(model_type, str):
        raise ConfigError("config.json has no model_type", file=source, key=KEY)
    try:
        built = AutoConfig.for_model(model_type, **{k: v for k, v in config.items()
                                                    if k != "model_type"})
    except (ValueError, KeyError, TypeError):
        return dict(config)  # a family this transformers does not know: use the file as written
    return {**config, **built.to_dict()}
