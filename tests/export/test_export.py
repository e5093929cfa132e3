"""Export: every format per expert with the same ids and split, loads with `datasets`,
manifest hashes, cards, router dataset, serving command, over-length pairs recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pairs_fixture import EXPERTS, corpus, judged_pair, real_tokenizer, run_config, tiny_tokenizer

from synth.curate.stage import load_curated, run_curate
from synth.errors import ExportError
from synth.experts import load_experts
from synth.export.chat import ChatRenderer, load_chat_tokenizer
from synth.export.formats import chat_examples
from synth.export.pack import encode_examples
from synth.export.stage import file_sha256, run_export
from synth.files import read_jsonl
from synth.records import ExcludedPair, ExportManifest
from synth.rundir import RunDir

FORMATS = ("trl", "litgpt", "messages")


@pytest.fixture(scope="module", params=["qwen3", "llama3_1", "tiny"])
def exported(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"export-{request.param}")
    if request.param == "tiny":
        tokenizer, base = tiny_tokenizer(tmp / "tiny"), "qwen3"
    else:
        tokenizer, base = real_tokenizer(request.param), request.param
        if tokenizer is None:
            assert request.param != "qwen3", "the bundled assets/tokenizers/qwen3 is missing"
            pytest.skip(f"../shared/assets/tokenizers/{request.param} is not present")
    config = run_config(tmp, tokenizer, base)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=16))
    curated = load_curated(run)
    manifest = run_export(config, run, curated)
    return request.param, run, curated, manifest


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_ids_and_split_in_every_format(exported):
    _, run, curated, manifest = exported
    assert sorted(manifest.experts) == sorted(EXPERTS)
    split_of = {c.pair.pair_id: c.split for c in curated}
    router = {
        s: {r["id"]: r["label"] for r in rows(run.path("export", "router", f"{s}.jsonl"))}
        for s in ("train", "val")
    }
    for expert in EXPERTS:
        for split in ("train", "val"):
            ids = {
                fmt: [r["id"] for r in rows(run.path("export", expert, fmt, f"{split}.jsonl"))]
                for fmt in FORMATS
            }
            packed = (
                pq.read_table(run.path("export", expert, "packed", f"{split}.parquet"))
                .column("example_ids")
                .to_pylist()
            )
            ids["packed"] = sorted(i for row in packed for i in row)
            assert (
                ids["trl"] == ids["litgpt"] == ids["messages"]
                and sorted(ids["trl"]) == ids["packed"]
            )
            assert ids["trl"] and all(split_of[i] == split for i in ids["trl"])
            assert all(router[split][i] == expert for i in ids["trl"])
            assert manifest.experts[expert][split] == len(ids["trl"])
    assert sum(len(r) for r in router.values()) == len(curated)


def test_rows_carry_the_pair_verbatim(exported):
    name, run, curated, _ = exported
    pairs = {c.pair.pair_id: c.pair for c in curated}
    for row in rows(run.path("export", "empathetic", "trl", "train.jsonl")):
        pair = pairs[row["id"]]
        assert row["prompt"][0]["role"] == "system" and row["prompt"][-1] == {
            "role": "user",
            "content": pair.question,
        }
        assert row["completion"] == [{"role": "assistant", "content": pair.answer}]
        assert ("chat_template_kwargs" in row) == (name == "qwen3")
    for row in rows(run.path("export", "empathetic", "litgpt", "val.jsonl")):
        assert "prompt" not in row  # LitGPT passes extra keys to prompt_style.apply(prompt=...)
        assert set(row) == {"instruction", "input", "output", "id", "expert", "sys_prompt"}
        assert (row["instruction"], row["output"], row["input"]) == (
            pairs[row["id"]].question,
            pairs[row["id"]].answer,
            "",
        )
    for row in rows(run.path("export", "empathetic", "messages", "train.jsonl")):
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]


def test_every_file_loads_with_datasets(exported, tmp_path):
    from datasets import load_dataset

    _, run, _, _ = exported
    export = run.path("export")
    files = sorted(export.rglob("*.jsonl")) + sorted(export.rglob("*.parquet"))
    assert len(files) == len(EXPERTS) * 8 + 3
    for path in files:
        if path.stat().st_size == 0:
            continue
        kind = "parquet" if path.suffix == ".parquet" else "json"
        loaded = load_dataset(kind, data_files=str(path), split="train", cache_dir=str(tmp_path))
        assert loaded.num_rows > 0, path
    for fmt in FORMATS:  # through the dataset card's configs
        loaded = load_dataset(str(export / "practical"), fmt, cache_dir=str(tmp_path))
        assert set(loaded) == {"train", "validation"}


def test_manifest_hashes_and_inputs(exported):
    _, run, _, manifest = exported
    export = run.path("export")
    on_disk = json.loads((export / "manifest.json").read_text())
    assert ExportManifest.model_validate(on_disk).files == manifest.files
    listed = {p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert set(manifest.files) == listed
    assert all(file_sha256(export / rel) == digest for rel, digest in manifest.files.items())
    assert {"curated_pairs", "config", "experts", "tokenizer", "pair_prompt_hashes"} <= set(
        manifest.input_hashes
    )
    assert manifest.input_hashes["tokenizer"] == manifest.tokenizer_hash
    stats = manifest.token_stats["therapeutic"]
    assert (
        stats["utilisation_train"] > 0
        and stats["tokens_train"] >= stats["trained_tokens_train"] > 0
    )


def test_cards_configs_and_serving_command(exported):
    _, run, _, manifest = exported
    export = run.path("export")
    for expert in EXPERTS:
        card = (export / expert / "README.md").read_text()
        assert card.startswith("---\n") and "config_name: trl" in card and expert in card
        assert (export / expert / "config" / "trl.yaml").exists() and (
            export / expert / "config" / "litgpt_lora.yaml"
        ).exists()
    serve = (export / "serve.sh").read_text()
    assert "--enable-lora" in serve and "--max-loras 4" in serve
    assert sorted(re.findall(r"(\w+)=\"\$ADAPTERS/\w+\"", serve)) == sorted(EXPERTS)
    assert int(re.search(r"--max-lora-rank (\d+)", serve).group(1)) >= 16
    assert manifest.base_model_id in serve
    assert (export / "router" / "lora_modules.txt").read_text().count("=") == 4


def test_overlength_pairs_are_excluded_from_every_format(tmp_path):
    tokenizer = real_tokenizer("qwen3") or tiny_tokenizer(tmp_path / "tiny")
    config = run_config(tmp_path, tokenizer)
    run = RunDir(config.run_dir)
    long = [judged_pair("therapeutic", f"video-long-{i}", i, answer_words=400) for i in range(2)]
    run_curate(config, run, corpus(per_expert=8, answer_words=40) + long)
    curated = load_curated(run)
    long_ids = {p.pair.pair_id for p in long}
    examples = chat_examples(curated, load_experts(config.experts), system_prompt=True)
    renderer = ChatRenderer(load_chat_tokenizer(tokenizer))
    encoded = encode_examples(renderer, examples, 10**6).kept
    sizes = {e.example.id: e.input_ids.size for e in encoded}
    config.export.max_seq_len = max(n for i, n in sizes.items() if i not in long_ids)
    assert all(sizes[i] > config.export.max_seq_len for i in long_ids)
    manifest = run_export(config, run, curated)
    excluded = list(read_jsonl(run.path("export", "excluded.jsonl"), ExcludedPair))
    assert sorted(e.pair_id for e in excluded) == sorted(long_ids)
    assert {e.reason for e in excluded} == {"overlength"}
    exported_ids = {
        r["id"]
        for e in manifest.experts
        for s in ("train", "val")
        for r in rows(run.path("export", e, "trl", f"{s}.jsonl"))
    }
    assert exported_ids.isdisjoint(e.pair_id for e in excluded)
    assert len(exported_ids) + len(excluded) == len(curated)
    assert manifest.excluded == {"overlength": len(excluded)}


def test_a_re_export_keeps_the_trained_adapters(tmp_path):
    tokenizer = real_tokenizer("qwen3") or tiny_tokenizer(tmp_path / "tiny")
    config = run_config(tmp_path, tokenizer)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=4))
    run_export(config, run, load_curated(run))
    adapter = run.path("export", config.export.adapters_dir, "therapeutic", "adapter_config.json")
    adapter.parent.mkdir(parents=True)
    adapter.write_text("{}", encoding="utf-8")  # what `synth train` leaves there
    run_export(config, run, load_curated(run))
    assert adapter.read_text(encoding="utf-8") == "{}"
    assert run.path("export", "serve.sh").exists()


def test_nothing_fits_is_a_clear_export_error(tmp_path):
    tokenizer = real_tokenizer("llama3_1") or tiny_tokenizer(tmp_path / "tiny")
    config = run_config(tmp_path, tokenizer)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=3))
    config.export.max_seq_len = 64
    with pytest.raises(ExportError, match="no pair fits"):
        run_export(config, run, load_curated(run))


def test_missing_tokenizer_fails_cleanly(tmp_path):
    config = run_config(tmp_path, tmp_path / "absent-tokenizer")
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=3))
    with pytest.raises(ExportError, match="absent-tokenizer' not found"):
        run_export(config, run, load_curated(run))
    assert not run.path("export").exists()
    config.export.tokenizer = "no-such-org/no-such-model"  # a hub id, offline in tests
    with pytest.raises(ExportError, match="cannot load the tokenizer"):
        run_export(config, run, load_curated(run))


def test_a_reingest_after_curate_keeps_stale_pairs_out_of_the_export(tmp_path):
    """Regression: export read curated/ as written, so a re-ingest between `synth curate` and
    `synth export` exported pairs whose segment text had changed."""
    from synth.files import write_jsonl
    from synth.records import Segment

    tokenizer = real_tokenizer("qwen3") or tiny_tokenizer(tmp_path / "tiny")
    config = run_config(tmp_path, tokenizer)
    run = RunDir(config.run_dir)
    run_curate(config, run, corpus(per_expert=8))
    curated = load_curated(run)
    stale = curated[0].pair
    segments = {c.pair.segment_id: c.pair for c in curated}
    write_jsonl(run.segments, [
        Segment(segment_id=sid, source_file="x.jsonl", record_index=i, source_id=p.source_id,
                style=p.expert, raw_style=p.expert, original_text=p.answer,
                text=p.answer + (" A sentence added on re-ingest." if sid == stale.segment_id else ""))
        for i, (sid, p) in enumerate(segments.items())])
    manifest = run_export(config, run, curated)
    exported_ids = {r["id"] for e in manifest.experts for s in ("train", "val")
                    for r in rows(run.path("export", e, "trl", f"{s}.jsonl"))}
    gone = {c.pair.pair_id for c in curated if c.pair.segment_id == stale.segment_id}
    assert gone and not gone & exported_ids
    assert len(exported_ids) == len(curated) - len(gone)
    excluded = list(read_jsonl(run.path("export", "excluded.jsonl"), ExcludedPair))
    assert {e.pair_id for e in excluded if e.reason == "stale_segment"} == gone


def test_every_exported_row_keeps_its_generation_set_the_router_rows_too(tmp_path):
    """Regression: router/{train,val}.jsonl rows lacked `generation` (curate.generations: all)."""
    from synth.export.formats import router_row
    from synth.records import CuratedPair

    experts = load_experts(run_config(tmp_path, tmp_path / "tok").experts)
    pair = judged_pair("therapeutic", "video-1", 1).pair.model_copy(update={"generation": "abc123"})
    example = chat_examples([CuratedPair(pair=pair, split="train")], experts, system_prompt=True)[0]
    assert router_row(example)["generation"] == "abc123"
