"""Any chat model: export.base_model as an alias, a hub id or a local folder, and the general
rules (reasoning off, one BOS, a pad token) of which Qwen3 and Llama 3 are special cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from model_folder import GEMMA_TEMPLATE, gemma_like_folder
from pairs_fixture import corpus, real_tokenizer, run_config, tiny_tokenizer

from synth.curate.stage import load_curated, run_curate
from synth.errors import ConfigError, ExportError
from synth.export.basemodel import resolve_base_model
from synth.export.chat import ChatRenderer, load_chat_tokenizer
from synth.export.chatrules import bos_prefix, pad_token_for, reasoning_off
from synth.export.pack import ChatExample, encode_examples
from synth.export.stage import run_export
from synth.rundir import RunDir

EXAMPLE = ChatExample("e1", "practical", "train", "Be kind.", "How do I start?", "Start small.")


def first_ids(chat) -> list[int]:
    return [int(i) for i in encode_examples(ChatRenderer(chat), [EXAMPLE], 4096).kept[0].input_ids[:3]]


def test_reasoning_switches_are_turned_off_wherever_a_template_reads_one():
    assert reasoning_off("{% if enable_thinking is defined and enable_thinking is false %}x{% endif %}") \
        == {"enable_thinking": False}
    assert reasoning_off("{% if thinking %}<think>{% endif %}") == {"thinking": False}
    assert reasoning_off("{{ message.thinking }} and enable_thinking outside a block") == {}
    qwen = real_tokenizer("qwen3")
    assert load_chat_tokenizer(qwen).template_kwargs == {"enable_thinking": False}  # Qwen3's case
    llama = real_tokenizer("llama3_1")
    if llama is not None:
        assert load_chat_tokenizer(llama).template_kwargs == {}


def test_one_bos_whoever_writes_it(tmp_path):
    """Template writes BOS (Llama 3, Gemma): once. Tokenizer adds one the template does not
    write (Phi-3-like): prepended once. No BOS (Qwen): none."""
    gemma = load_chat_tokenizer(gemma_like_folder(tmp_path / "gemma"))
    bos = gemma.tokenizer.bos_token_id
    assert gemma.bos_prefix == () and first_ids(gemma)[0] == bos and first_ids(gemma)[1] != bos
    no_bos_template = GEMMA_TEMPLATE.replace("{{ bos_token }}", "")
    phi_like = load_chat_tokenizer(gemma_like_folder(tmp_path / "phi", no_bos_template))
    start_of_turn = phi_like.tokenizer.convert_tokens_to_ids("<start_of_turn>")
    assert phi_like.bos_prefix == (bos,) and first_ids(phi_like)[:2] == [bos, start_of_turn]
    plain = load_chat_tokenizer(gemma_like_folder(tmp_path / "plain", no_bos_template, adds_bos=False))
    assert plain.bos_prefix == () and first_ids(plain)[0] != bos
    assert load_chat_tokenizer(real_tokenizer("qwen3")).bos_prefix == ()
    llama_folder = real_tokenizer("llama3_1")
    if llama_folder is not None:  # Llama 3's double BOS (tokenizer(rendered)) is the rule's case
        llama = load_chat_tokenizer(llama_folder)
        assert llama.bos_prefix == () and first_ids(llama)[:2] == [128000, 128006]
        rendered = llama.tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
        assert llama.tokenizer(rendered)["input_ids"][:2] == [128000, 128000]
        assert bos_prefix(llama.tokenizer, {}) == ()


def test_pad_token_rule(tmp_path):
    assert pad_token_for(load_chat_tokenizer(real_tokenizer("qwen3")).tokenizer) is None  # has one
    llama = real_tokenizer("llama3_1")
    if llama is not None:
        tokenizer = load_chat_tokenizer(llama).tokenizer
        pad = pad_token_for(tokenizer)
        assert tokenizer.convert_tokens_to_ids(pad) == 128004  # 3.1's finetune_right_pad_id slot
    tiny = load_chat_tokenizer(tiny_tokenizer(tmp_path / "tiny")).tokenizer
    tiny.pad_token = None
    assert pad_token_for(tiny) == tiny.eos_token


def test_base_model_spec_forms(tmp_path):
    qwen = resolve_base_model("qwen3", Path)
    assert qwen.hub_id == "Qwen/Qwen3-8B" and qwen.model_type == "qwen3" and qwen.folder is None
    assert qwen.shape().params == 8_190_735_360  # from the bundled config.json, offline
    folder = resolve_base_model(str(gemma_like_folder(tmp_path / "g")), Path)
    assert folder.folder == (tmp_path / "g").absolute() and folder.hub_id is None
    assert folder.serve_id == str((tmp_path / "g").absolute()) and folder.model_type == "gemma2"
    assert folder.tokenizer_source() == str((tmp_path / "g").absolute())
    named = resolve_base_model(str(tmp_path / "g"), Path, hub_id="google/gemma-2-9b-it")
    assert named.serve_id == "google/gemma-2-9b-it"
    with pytest.raises(ConfigError, match="no config.json for 'nobody/unknown-model'"):
        resolve_base_model("nobody/unknown-model", Path)  # HF_HUB_OFFLINE in tests, not cached
    with pytest.raises(ConfigError, match="not an alias"):
        resolve_base_model("not a model", Path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no config.json"):
        resolve_base_model(str(tmp_path / "empty"), Path)


def test_local_folder_of_another_architecture_exports(tmp_path):
    folder = gemma_like_folder(tmp_path / "gemma-local")
    config = run_config(tmp_path, None, base=str(folder))
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=6))
    manifest = run_export(config, run, load_curated(run))
    export = run.path("export")
    assert manifest.model_type == "gemma2" and manifest.base_model_id == str(folder.absolute())
    assert manifest.template_kwargs == {} and manifest.litgpt == {}  # no hub name: no LitGPT config
    trl = yaml.safe_load((export / "practical" / "config" / "trl.yaml").read_text())
    assert trl["base_model"] == str(folder.absolute())
    assert trl["memory"]["params_b"] == pytest.approx(9.242, abs=1e-3)  # Gemma-2-9B's own count
    assert not (export / "practical" / "config" / "litgpt_lora.yaml").exists()
    assert f"vllm serve {folder.absolute()}" in (export / "serve.sh").read_text()
    assert "no LitGPT config" in (export / "practical" / "README.md").read_text()
    assert json.loads((export / "manifest.json").read_text())["tokenizer"] == str(folder.absolute())


def test_a_template_without_a_system_role_asks_for_system_prompt_off(tmp_path):
    gemma2_rule = ("{% if messages[0]['role'] == 'system' %}"
                   "{{ raise_exception('System role not supported') }}{% endif %}")
    folder = gemma_like_folder(tmp_path / "gemma-strict", gemma2_rule + GEMMA_TEMPLATE)
    config = run_config(tmp_path, None, base=str(folder))
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=4))
    with pytest.raises(ExportError, match="rejects a system message: set export.system_prompt: false"):
        run_export(config, run, load_curated(run))
    config.export.system_prompt = False
    assert run_export(config, run, load_curated(run)).model_type == "gemma2"


def test_the_qwen3_alias_packs_offline_with_the_bundled_tokenizer(tmp_path, monkeypatch):
    """No export.tokenizer, no hub (HF_HUB_OFFLINE in tests), an empty HF cache: the alias's
    tokenizer is the copy in assets/tokenizers/qwen3; a cached copy or another model: the hub id."""
    import huggingface_hub

    cache: dict[str, str] = {}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache",
                        lambda repo_id, filename, **kw: cache.get(f"{repo_id}/{filename}"))
    bundled = Path(__file__).resolve().parents[2] / "assets" / "tokenizers" / "qwen3"
    assert resolve_base_model("qwen3", Path).tokenizer_source() == str(bundled)
    assert resolve_base_model("llama3_1", Path).tokenizer_source() == "meta-llama/Llama-3.1-8B-Instruct"
    config = run_config(tmp_path, None, base="qwen3")
    assert config.export.tokenizer is None
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=2))
    manifest = run_export(config, run, load_curated(run))
    assert manifest.tokenizer == str(bundled)
    cache["Qwen/Qwen3-8B/tokenizer_config.json"] = str(tmp_path / "cached" / "tokenizer_config.json")
    assert resolve_base_model("qwen3", Path).tokenizer_source() == "Qwen/Qwen3-8B"
