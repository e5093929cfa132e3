"""Shared test setup: offline env defaults and the local fake LLM server fixture."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TIKTOKEN_CACHE_DIR", "")  # no stray tiktoken cache in the temp dir
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TESTS = os.path.dirname(os.path.abspath(__file__))
for helper_dir in ("fakes", "builders"):  # fakes (the fake LLM server) and builders (test data)
    sys.path.insert(0, os.path.join(TESTS, helper_dir))

from fake_llm_server import FakeLLMServer  # noqa: E402


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer (see tests/fake_llm_server.py): script faults, count requests."""
    with FakeLLMServer() as server:
        yield server
