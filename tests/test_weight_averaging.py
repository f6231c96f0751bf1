"""benchmarks/weight_averaging.py scores generators averaged over a run's epoch snapshots: its weights must be the
training loop's EMA where they claim to be, and the power profiles as wide as they are named."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.config import model_config_for_size
from helpers.models.checkpoint import load_model, save_model
from helpers.models.generator import Generator
from helpers.training.ema import make_ema, update_ema

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from weight_averaging import (averaged_generator, gamma_for_width, power_weights, relative_width,  # noqa: E402
                              run_ema_weights, snapshot_path)


def test_run_ema_weights_are_what_update_ema_does():
    steps = 400
    values = torch.randn(steps, generator=torch.Generator().manual_seed(0))
    model = torch.nn.Linear(1, 1, bias=False)
    ema = make_ema(model)
    for step in range(steps):
        with torch.no_grad():
            model.weight.fill_(values[step].item())  # the weights after this step's optimiser update
        update_ema(ema, model, step, 0.999)
    per_step = run_ema_weights(steps, 1, 0.999)
    assert per_step.sum() == pytest.approx(1.0, abs=1e-9)
    assert ema.weight.item() == pytest.approx(float(per_step @ values.double().numpy()), abs=1e-5)
    per_epoch = run_ema_weights(steps // 8, 8, 0.999)
    assert np.allclose(per_epoch, per_step.reshape(-1, 8).sum(axis=1))


@pytest.mark.parametrize("width", [0.05, 0.1, 0.25])
def test_a_power_profile_is_as_wide_as_named(width):
    assert relative_width(gamma_for_width(width)) == pytest.approx(width, rel=1e-6)
    weights = power_weights(2000, width)
    where = (np.arange(2000) + 0.5) / 2000  # each epoch's middle, as a fraction of the run
    mean = weights @ where
    assert weights.sum() == pytest.approx(1.0)
    assert np.sqrt(weights @ (where - mean) ** 2) == pytest.approx(width, rel=1e-3)  # its spread, as a fraction of the run
    assert np.all(np.diff(weights) >= 0)  # later epochs never weigh less
    with pytest.raises(ValueError, match="relative width"):
        gamma_for_width(0.3)  # wider than a uniform average


def test_averaged_generator_mixes_the_snapshots(tmp_path):
    torch.manual_seed(0)
    generator = Generator(model_config_for_size(64, "ci"))
    template = save_model(generator, tmp_path / "template.pth", "generator", {"run_dir": "somewhere"})
    states = [{key: value * scale for key, value in generator.state_dict().items()} for scale in (1.0, 3.0)]
    for epoch, state in enumerate(states, start=1):
        snapshot_path(tmp_path, epoch).parent.mkdir(exist_ok=True)
        torch.save(state, snapshot_path(tmp_path, epoch))
    out = averaged_generator(tmp_path, np.array([1.0, 3.0]), template, tmp_path / "mixed.pth")  # normalised: 1/4, 3/4
    mixed, checkpoint = load_model(out, "generator")
    for key, value in mixed.state_dict().items():
        assert torch.allclose(value, 2.5 * generator.state_dict()[key], atol=1e-6), key
    assert checkpoint["extra"] == {"run_dir": "somewhere", "averaged": True}  # evaluate finds the run's split through it
