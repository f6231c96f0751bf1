"""benchmarks/paired_kid.py: generators compared on the same KID subsets, each against the first."""

import numpy as np


def test_each_generator_is_compared_with_the_first_subset_by_subset(benchmark_script):
    paired_kid = benchmark_script("paired_kid")
    rng = np.random.default_rng(0)
    reals = rng.gamma(2.0, 0.1, size=(200, 32))
    close = rng.gamma(2.0, 0.1, size=(400, 32))
    rows = paired_kid.paired_rows(["close", "same", "far"], [close, close.copy(), close + 0.1], reals)
    assert [row["weights"] for row in rows] == ["close", "same", "far"]
    assert rows[0]["kid_minus_first"] == 0 and rows[1]["kid_minus_first"] == 0 and rows[1]["kid"] == rows[0]["kid"]
    assert rows[2]["kid_minus_first"] > 0 and rows[2]["share_of_subsets_below_first"] == 0  # worse on every subset
    assert rows[2]["fid"] > rows[0]["fid"]
