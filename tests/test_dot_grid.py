"""benchmarks/dot_grid.py: the inputs it changes to find where a generator's dots come from."""

import pytest
import torch

from helpers.config import model_config_for_size


def test_each_change_touches_only_its_own_part_of_the_generators_input(benchmark_script):
    dot_grid = benchmark_script("dot_grid")
    config = model_config_for_size(64, noise_inputs=True)
    latent = config.latent_dim
    z = torch.randn(5, config.input_dim)
    original = z.clone()

    one_latent = dot_grid.changed_inputs(z, config, "one latent")
    assert torch.equal(one_latent[:, :latent], z[:1, :latent].expand(5, -1))
    assert torch.equal(one_latent[:, latent:], z[:, latent:])

    one_noise = dot_grid.changed_inputs(z, config, "one noise")
    assert torch.equal(one_noise[:, :latent], z[:, :latent])
    assert torch.equal(one_noise[:, latent:], z[:1, latent:].expand(5, -1))

    last = len(config.noise_sizes) - 1
    zeroed = dot_grid.changed_inputs(z, config, f"noise {last}")
    columns = dot_grid.noise_map_columns(config, last)
    assert columns.stop == config.input_dim and columns.stop - columns.start == config.noise_sizes[last] ** 2
    assert not zeroed[:, columns].any() and torch.equal(zeroed[:, :columns.start], z[:, :columns.start])
    assert torch.equal(z, original)  # the caller's inputs are left as they were
    with pytest.raises(ValueError, match="unknown change"):
        dot_grid.changed_inputs(z, config, "one everything")
