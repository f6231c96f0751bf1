"""The valence-arousal explorer: sliders (1-9), a seed and an image count; the images follow
the sliders while they are dragged. For a diffusion model two more controls: the number of
sampling steps and the guidance scale (each step is one or two passes of the U-Net, so the
update time grows with the steps).

Speed matters here: a slider update must reach the page within 100 ms. The generator runs
in inference mode on a batch of at most 8 latents that are computed once per seed, and the
PNG is encoded from a uint8 array without matplotlib.
"""

import io
import time

import numpy as np
import torch
from PIL import Image

from helpers.generate import images_from, is_diffusion, starting_points
from helpers.rectified_flow import DEFAULT_GUIDANCE, DEFAULT_STEPS
from helpers.va import va_unit_tensor
from helpers.image_tensors import grid, to_uint8


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class VAExplorer:
    """``VAExplorer(generator).widget`` is the ipywidgets panel; ``render`` is its callback's core."""

    def __init__(self, generator, valence: float = 5.0, arousal: float = 5.0, seed: int = 0, count: int = 4,
                 display_size: int = 192, steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE):
        import ipywidgets as widgets

        self.generator = generator.eval()
        self._latents = {}
        style = {"description_width": "70px"}
        self.valence = widgets.FloatSlider(value=valence, min=1, max=9, step=0.1, description="valence",
                                           continuous_update=True, style=style, layout={"width": "420px"})
        self.arousal = widgets.FloatSlider(value=arousal, min=1, max=9, step=0.1, description="arousal",
                                           continuous_update=True, style=style, layout={"width": "420px"})
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=style,
                                           layout={"width": "200px"})
        self.count = widgets.IntSlider(value=count, min=1, max=8, description="images", style=style,
                                       layout={"width": "300px"})
        self.image = widgets.Image(format="png", layout={"width": f"{display_size * min(count, 4)}px"})
        self.image.add_class("va-explorer-image")
        self.status = widgets.Label()
        controls = [self.valence, self.arousal, self.seed, self.count]
        rows = [widgets.HBox([self.valence, self.seed]), widgets.HBox([self.arousal, self.count])]
        self.steps = self.guidance = None
        if is_diffusion(generator):
            self.steps = widgets.IntSlider(value=steps, min=1, max=32, description="steps", style=style,
                                           layout={"width": "420px"})
            self.guidance = widgets.FloatSlider(value=guidance, min=0, max=8, step=0.5, description="guidance",
                                                style=style, layout={"width": "300px"})
            controls += [self.steps, self.guidance]
            rows.append(widgets.HBox([self.steps, self.guidance]))
        for control in controls:
            control.observe(self._on_change, names="value")
        self.widget = widgets.VBox([*rows, self.image, self.status])
        self.display_size = display_size
        self.last_milliseconds = None
        self.update()

    def latents(self, seed: int, count: int) -> torch.Tensor:
        key = (seed, count)
        if key not in self._latents:  # a seed change is rare; a slider drag reuses the latents
            device = next(self.generator.parameters()).device
            self._latents = {key: starting_points(self.generator, range(seed, seed + count), device)}
        return self._latents[key]

    def sampling(self) -> dict:
        """The diffusion model's steps and guidance as set by their sliders (empty for a GAN)."""
        return {"steps": self.steps.value, "guidance": self.guidance.value} if self.steps is not None else {}

    @torch.inference_mode()
    def render(self, valence: float, arousal: float, seed: int, count: int) -> np.ndarray:
        """uint8 (count, H, W, 3): images seed..seed+count-1 at this valence and arousal."""
        z = self.latents(seed, count)
        va = va_unit_tensor(valence, arousal, count, z.device)
        # One thread: a batch of <= 8 small images gains nothing from a second one, and while the
        # browser is busy on the other core, OpenMP threads waiting for each other cost tens of ms.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return to_uint8(images_from(self.generator, z, va, **self.sampling()))
        finally:
            torch.set_num_threads(threads)

    def update(self) -> None:
        started = time.perf_counter()
        images = self.render(self.valence.value, self.arousal.value, self.seed.value, self.count.value)
        columns = min(len(images), 4)
        self.image.value = png_bytes(grid(images, columns, padding=1))
        self.image.layout.width = f"{self.display_size * columns}px"
        self.last_milliseconds = (time.perf_counter() - started) * 1000
        sampling = (f", {self.steps.value} steps, guidance {self.guidance.value:g}" if self.steps is not None else "")
        self.status.value = (f"valence {self.valence.value:.1f}, arousal {self.arousal.value:.1f}, "
                             f"seeds {self.seed.value}..{self.seed.value + self.count.value - 1}{sampling} "
                             f"({self.last_milliseconds:.0f} ms)")

    def _on_change(self, change) -> None:
        self.update()

    def still(self, settings=None):
        """A still picture of what the sliders show (a matplotlib figure), for readers whose viewer
        does not run widgets (GitHub, nbviewer): one row per (valence, arousal) in ``settings``,
        by default the sliders' current values, for the current seeds."""
        import matplotlib.pyplot as plt

        settings = settings or [(self.valence.value, self.arousal.value)]
        seed, count = self.seed.value, self.count.value
        figure, axes = plt.subplots(len(settings), 1, figsize=(1.7 * count, 2.0 * len(settings)), squeeze=False)
        for axis, (valence, arousal) in zip(axes[:, 0], settings):
            axis.imshow(grid(self.render(valence, arousal, seed, count), count, padding=1))
            axis.set_title(f"valence {valence:.1f}, arousal {arousal:.1f}, seeds {seed}..{seed + count - 1}", fontsize=9)
            axis.axis("off")
        figure.tight_layout()
        return figure


def va_explorer(generator, **kwargs):
    """Display-ready panel: ``va_explorer(generator)`` as the last line of a cell."""
    return VAExplorer(generator, **kwargs).widget
