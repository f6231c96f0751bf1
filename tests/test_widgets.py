import numpy as np
import pytest
import torch

from helpers.config import model_config_for_size
from helpers.models.generator import Generator
from helpers.widgets import VAExplorer


@pytest.fixture
def explorer():
    torch.manual_seed(1)
    return VAExplorer(Generator(model_config_for_size(64)), valence=5.0, arousal=5.0, seed=3, count=2)


def test_slider_callback_gives_different_images_for_different_va(explorer):
    first_png = explorer.image.value
    first = explorer.render(5.0, 5.0, 3, 2)
    explorer.valence.value = 8.5  # what dragging the slider does: the observer re-renders
    assert explorer.image.value != first_png
    assert not np.array_equal(explorer.render(8.5, 5.0, 3, 2), first)
    assert "valence 8.5" in explorer.status.value
    explorer.arousal.value = 1.0
    assert not np.array_equal(explorer.render(8.5, 1.0, 3, 2), explorer.render(8.5, 5.0, 3, 2))


def test_same_controls_give_the_same_images(explorer):
    assert np.array_equal(explorer.render(2.0, 7.0, 3, 2), explorer.render(2.0, 7.0, 3, 2))
    explorer.count.value = 3
    assert explorer.render(2.0, 7.0, 3, 3).shape == (3, 64, 64, 3)
    # the first two images of a bigger batch are the same images: each has its own seed
    assert np.array_equal(explorer.render(2.0, 7.0, 3, 3)[:2], explorer.render(2.0, 7.0, 3, 2))
