"""Configs: every file in configs/ loads; errors name the file and key path; --set overrides."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from synth.cli import main
from synth.config import dump_config, load_config
from synth.errors import ConfigError
from synth.experts import load_experts
from synth.files import read_yaml
from synth.rundir import open_run

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILES = sorted((ROOT / "configs").glob("*.y*ml"))


def is_experts_file(path: Path) -> bool:
    data = read_yaml(path)
    return isinstance(data, dict) and isinstance(data.get("experts"), list)


def test_configs_dir_has_run_configs_and_experts() -> None:
    names = [p.name for p in CONFIG_FILES]
    assert "example.yaml" in names and "experts.yaml" in names


@pytest.mark.parametrize("path", CONFIG_FILES, ids=[p.name for p in CONFIG_FILES])
def test_every_config_file_loads(path: Path) -> None:
    if is_experts_file(path):
        experts = load_experts(path)
        assert experts.names and all(e.labels and e.boundaries for e in experts.experts)
    else:
        config = load_config(path)
        load_experts(config.resolve(config.experts))  # the experts file it names loads too
        assert config.run_dir


def test_example_config_has_the_key_names_scripts_rely_on() -> None:
    config = load_config(ROOT / "configs" / "example.yaml")
    for section in (config.generator, config.judge):
        for key in ("provider", "model", "base_url", "api_key_env", "concurrency", "timeout_s",
                    "max_retries", "temperature", "max_tokens", "price_in_per_mtok", "price_out_per_mtok"):
            assert hasattr(section, key)
    assert config.judge.rubric and config.budget.max_usd >= 0 and isinstance(config.field_map, dict)


def test_four_experts_with_labels_bounds_and_boundaries() -> None:
    experts = load_experts(ROOT / "configs" / "experts.yaml")
    assert experts.names == ["therapeutic", "educational", "empathetic", "practical"]
    assert experts.expert_for_label("  Therapeutic ") == "therapeutic"
    assert experts.expert_for_label("practical_advice") == "practical"
    assert experts.expert_for_label("sarcastic") is None


def write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, key", [
    ("generator:\n  modle: x\n", "generator.modle"),
    ("budget:\n  max_usd: -1\n", "budget.max_usd"),
    ("generator:\n  concurrency: lots\n", "generator.concurrency"),
    ("ingest:\n  quarantine_flags: [too_short, not_a_flag]\n", "ingest.quarantine_flags"),
    ("nonsense_top_level: 1\n", "nonsense_top_level"),
    ("judge:\n  provider: magic\n", "judge.provider"),
])
def test_unknown_key_or_bad_value_names_file_and_key_path(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and f"key {key}" in str(info.value)


def test_not_a_mapping_and_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "a: [unclosed\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_set_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "generator:\n  model: small\n")
    config = load_config(path, ["generator.model=big-one", "budget.max_usd=2.5",
                                "ingest.quarantine_flags=[promo]", "field_map.text=transcript"])
    assert config.generator.model == "big-one" and config.budget.max_usd == 2.5
    assert config.ingest.quarantine_flags == ["promo"] and config.field_map == {"text": "transcript"}


@pytest.mark.parametrize("override, message", [
    ("generator.model", "dotted.key=value"),
    ("generator.modle=x", "generator.modle"),
    ("run_dir.sub=x", "run_dir"),
    ("budget.max_usd=[1", "not valid YAML"),
    ("curate.generations=nonsense", "a list of generation set ids or 'all'"),
])
def test_bad_overrides(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_config(write(tmp_path, "run_dir: runs/x\n"), [override])


def test_bad_experts_files(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "configs" / "experts.yaml").read_text(encoding="utf-8"))
    base["experts"][0]["colour"] = "blue"
    path = write(tmp_path, yaml.safe_dump(base), "experts.yaml")
    with pytest.raises(ConfigError, match=r"key experts\.0\.colour"):
        load_experts(path)
    base["experts"][0].pop("colour")
    base["experts"][1]["labels"].append("therapy")  # already therapeutic's
    with pytest.raises(ConfigError, match="maps to both"):
        load_experts(write(tmp_path, yaml.safe_dump(base), "experts.yaml"))


def test_effective_config_is_saved_in_the_run_dir(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "example.yaml", [f"run_dir={tmp_path / 'run'}", "seed=7"])
    run = open_run(config)
    saved = yaml.safe_load(run.path("config.yaml").read_text(encoding="utf-8"))
    assert saved["seed"] == 7 and saved["run_dir"] == str(tmp_path / "run")
    assert yaml.safe_load(dump_config(config)) == saved


def test_cli_config_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "generator:\n  modle: x\n")
    assert main(["ingest", str(path)]) == 2
    err = capsys.readouterr().err
    assert "generator.modle" in err and str(path) in err and "Traceback" not in err
    assert main(["ingest", str(ROOT / "configs" / "example.yaml"), "--set", "no_equals_sign"]) == 2
