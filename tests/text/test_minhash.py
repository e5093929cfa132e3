"""synth.text.minhash: the LSH (bands, rows) kept for the default configs are datasketch's."""
from __future__ import annotations

import pytest
from datasketch.lsh import _optimal_param

from synth.config import CurateConfig, IngestConfig
from synth.text import minhash


@pytest.mark.parametrize(("threshold", "num_perm"), sorted(minhash._KNOWN_PARAMS))
def test_the_kept_lsh_params_are_datasketchs(threshold: float, num_perm: int) -> None:
    assert minhash.lsh_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_the_default_configs_thresholds_are_kept_and_others_asked() -> None:
    for threshold, measure in ((IngestConfig().near_dup_threshold, "overlap"),
                               (CurateConfig().near_dup_threshold, "jaccard"),
                               (CurateConfig().near_dup_threshold, "overlap")):
        assert (minhash._lsh_threshold(threshold, measure), 64) in minhash._KNOWN_PARAMS
    assert minhash.lsh_params(0.55, 64) == _optimal_param(0.55, 64, 0.5, 0.5)
