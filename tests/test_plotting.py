import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.plotting import show_images


def test_show_images_sizes_the_figure_from_the_images_aspect_ratio():
    strip = np.zeros((1, 130, 520, 3), np.uint8)  # notebook 02's reconstructions: two rows of eight
    figure = show_images(strip, 1, scale=12)
    width, height = figure.get_size_inches()
    assert width == 12 and height == pytest.approx(12 * 130 / 520)
    plt.close(figure)
    figure = show_images(np.zeros((6, 64, 64, 3), np.uint8), 3, "a title")
    width, height = figure.get_size_inches()
    assert height == pytest.approx(2 / 3 * width + 0.4)  # square cells, plus room for the title
    plt.close(figure)
