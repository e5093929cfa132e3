"""The sentence encoder's int8 ONNX runtime: a text's vector depends on the text alone, it
agrees with the PyTorch fp32 model it was exported from, and an unwritable cache says where."""
from __future__ import annotations

import numpy as np
import pytest

from synth.errors import SynthError
from synth.text import embeddings, encoder

pytestmark = pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")

TEXTS = [
    "I keep waking up at 3am with my heart racing. What can I do?",
    "Grounding works by bringing your attention back to what your senses notice right now.",
    "When you feel the urge to snap at your kids, pause and name the feeling first.",
    "Short.",
    "A much longer passage about how grief changes over the months after a loss, " * 12,
]


def test_a_text_has_one_vector_whatever_it_is_encoded_with() -> None:
    alone = np.stack([embeddings.embed([t])[0] for t in TEXTS])
    together = embeddings.embed(TEXTS)
    shuffled = embeddings.embed(TEXTS[::-1])[::-1]
    assert np.array_equal(alone, together)
    assert np.array_equal(together, shuffled)
    assert together.dtype == np.float32 and together.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_int8_vectors_agree_with_the_fp32_model() -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(encoder.model_dir()), device="cpu").encode(
        TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    agreement = np.einsum("ij,ij->i", embeddings.embed(TEXTS), reference)
    assert agreement.min() > 0.97, agreement  # measured 0.99 on average (README)
    # the order of similarities is what the checks use: it survives quantization
    int8 = embeddings.embed(TEXTS[:3])
    assert np.argmax(int8[2] @ int8[:2].T) == np.argmax(reference[2] @ reference[:2].T)


def test_an_unwritable_cache_names_the_folder_and_the_variable(tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(blocked))
    with pytest.raises(SynthError, match="SYNTH_CACHE_DIR") as caught:
        encoder.load_encoder()
    assert str(blocked) in str(caught.value)


def test_the_export_is_named_for_weights_runtime_and_recipe(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path))
    path = encoder.onnx_path()
    assert path.parent == tmp_path / "encoders" and path.suffix == ".onnx"
    monkeypatch.setattr(encoder, "EXPORT_RECIPE", "another-recipe")
    assert encoder.onnx_path() != path


def test_a_damaged_export_names_the_file_and_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path))
    damaged = encoder.onnx_path()
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not an onnx model")
    with pytest.raises(SynthError, match="delete it") as caught:
        encoder.load_encoder()
    assert str(damaged) in str(caught.value)


def test_an_export_made_while_waiting_for_the_lock_is_not_made_again(tmp_path, monkeypatch) -> None:
    """Many processes (Ray actors on a fresh node) load the encoder at once: one exports, under a
    lock between processes; the others wait and load its file."""
    import shutil
    import threading

    from synth.files import exclusive_lock

    made = encoder.onnx_path()  # this machine's export (the embed extra's tests made it)
    encoder.load_encoder()
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path))
    target = encoder.onnx_path()
    exports: list[object] = []
    monkeypatch.setattr(encoder, "export_int8", lambda source, path: exports.append(path))
    loaded: list[object] = []
    with exclusive_lock(target):  # another process is exporting
        waiter = threading.Thread(target=lambda: loaded.append(encoder.load_encoder()))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and not loaded  # it waits for the lock
        shutil.copy(made, target)  # the other process's export lands
    waiter.join(60)
    assert exports == [] and len(loaded) == 1
