"""Shared test setup: offline env defaults and the local fake LLM server fixture."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TIKTOKEN_CACHE_DIR", "")  # no stray tiktoken cache in the temp dir
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from fake_llm_server import FakeLLMServer


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer (see tests/fake_llm_server.py): script faults, count requests."""
    with FakeLLMServer() as server:
        yield server
