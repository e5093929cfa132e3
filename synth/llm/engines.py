"""Which engine runs an endpoint's calls: `make_engine` picks it from the run's engine config.

- provider offline: the local LLMEngine (no calls to send, whatever engine.kind says);
- provider ray_vllm: RayDataEngine (synth.llm.ray_data_provider: vLLM inside the Ray cluster);
- engine.kind ray: RayEngine (synth.llm.ray_dispatch: the driver keeps the books, Ray workers
  send the HTTP calls), except for dry runs (connect=False), which send nothing;
- else the local LLMEngine.
Ray is imported only when a Ray engine is made.
"""
from __future__ import annotations

from typing import Any

from synth.config import EngineConfig, LLMConfig
from synth.llm.engine import LLMEngine
from synth.llm.services import LLMServices


def make_engine(llm: LLMConfig, services: LLMServices, engine: EngineConfig | None = None, *,
                connect: bool = True, **kwargs: Any) -> LLMEngine:
    """The engine for one endpoint config (see the module docstring); close it with aclose()."""
    engine = engine or EngineConfig()
    if llm.provider == "ray_vllm":
        from synth.llm.ray_data_provider import RayDataEngine

        return RayDataEngine(llm, services, engine, **kwargs)
    if engine.kind == "ray" and connect and llm.provider != "offline":
        from synth.llm.ray_dispatch import RayEngine

        return RayEngine(llm, services, engine, **kwargs)
    return LLMEngine(llm, services, connect=connect, **kwargs)
