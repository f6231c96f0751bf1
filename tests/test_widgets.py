import io

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.config import model_config_for_size
from helpers.generate import generate
from helpers.image_tensors import grid
from helpers.models.generator import Generator
from helpers.widgets import VAExplorer


@pytest.fixture
def explorer():
    torch.manual_seed(1)
    return VAExplorer(Generator(model_config_for_size(64)), valence=5.0, arousal=5.0, seed=3, count=2)


def _shown(explorer) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(explorer.image.value)).convert("RGB"))


def test_slider_callback_shows_the_generators_images_for_exactly_those_controls(explorer):
    # Setting a control is what dragging it does: the observer re-renders.
    for control, value in [("valence", 8.5), ("arousal", 1.0), ("seed", 7), ("count", 3)]:
        getattr(explorer, control).value = value
        seeds = range(explorer.seed.value, explorer.seed.value + explorer.count.value)
        expected = generate(explorer.generator, explorer.valence.value, explorer.arousal.value, seeds)
        assert np.array_equal(_shown(explorer), grid(expected, len(seeds), padding=1)), control
    assert explorer.status.value.startswith("valence 8.5, arousal 1.0, seeds 7..9")


def test_same_controls_give_the_same_images(explorer):
    assert np.array_equal(explorer.render(2.0, 7.0, 3, 2), explorer.render(2.0, 7.0, 3, 2))
    explorer.count.value = 3
    assert explorer.render(2.0, 7.0, 3, 3).shape == (3, 64, 64, 3)
    # the first two images of a bigger batch are the same images: each has its own seed
    assert np.array_equal(explorer.render(2.0, 7.0, 3, 3)[:2], explorer.render(2.0, 7.0, 3, 2))


def test_the_slider_benchmark_times_each_variant_without_changing_the_generator(monkeypatch):
    import sys
    from pathlib import Path

    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))  # slider_latency imports its neighbour machine.py
    import slider_latency

    generator = Generator(model_config_for_size(64, "ci")).eval()
    layouts, film = slider_latency.compare_layouts(generator, rounds=1), slider_latency.compare_film(generator, rounds=1)
    assert set(layouts) == {"nchw", "channels_last", "rounds"} and set(film) == {"per_unit", "fused", "rounds"}
    for variant in ("nchw", "channels_last", "per_unit", "fused"):
        times = (layouts | film)[variant]
        assert times["generator_one_image_ms"] > 0 and times["callback_four_images_ms"] > 0
    # timed on copies: the caller's model keeps its layout and its fused modulations
    assert generator.stages[0].up_conv.weight.is_contiguous() and generator.fuse_film
    sys.modules.pop("slider_latency", None)
