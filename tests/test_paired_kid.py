"""benchmarks/paired_kid.py: generators compared on the same KID subsets, each against the first."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def paired_kid(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import paired_kid

    return paired_kid


def test_each_generator_is_compared_with_the_first_subset_by_subset(paired_kid):
    rng = np.random.default_rng(0)
    reals = rng.gamma(2.0, 0.1, size=(200, 32))
    close = rng.gamma(2.0, 0.1, size=(400, 32))
    rows = paired_kid.paired_rows(["close", "same", "far"], [close, close.copy(), close + 0.1], reals)
    assert [row["weights"] for row in rows] == ["close", "same", "far"]
    assert rows[0]["kid_minus_first"] == 0 and rows[1]["kid_minus_first"] == 0 and rows[1]["kid"] == rows[0]["kid"]
    assert rows[2]["kid_minus_first"] > 0 and rows[2]["share_of_subsets_below_first"] == 0  # worse on every subset
    assert rows[2]["fid"] > rows[0]["fid"]
