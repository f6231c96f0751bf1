"""What the notebooks share: which preset and data to use, and where weights go.

A notebook's first code cell reads like ``session = notebook_session()``. With no arguments
it uses the default procedural dataset (rendered on first use) and the preset named by the
``VA_PRESET`` environment variable, else ``full`` on a GPU and ``quick`` on a CPU. To use
the real data, pass ``images=`` and ``labels=`` (or ``valence_file=``/``arousal_file=``), and,
as on the command line, ``id_column=``, ``valence_column=``, ``arousal_column=`` and ``extensions=``
for a CSV or folder named differently.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from helpers.config import PRESETS, DataConfig, diffusion_model_config, model_config_for_size, preset
from helpers.data import DEFAULT_DATA_ROOT, ensure_default_dataset, load_dataset
from helpers.data.decode import IMAGE_EXTENSIONS

WEIGHTS_ROOT = DEFAULT_DATA_ROOT.parent / "weights"
# The model shipped with the repository (the `reference` preset, trained longer), so sliders
# and diagnostics work before a student has trained anything.
REFERENCE_GENERATOR = WEIGHTS_ROOT / "reference" / "generator.pth"


@dataclass
class Session:
    preset: str
    size: int
    images: Path
    labels: Path = None
    valence_file: Path = None
    arousal_file: Path = None
    weights: Path = None  # where this preset's checkpoints go: weights/<preset>
    id_column: str = "image"
    valence_column: str = "valence"
    arousal_column: str = "arousal"
    extensions: tuple = IMAGE_EXTENSIONS

    @property
    def data_config(self) -> DataConfig:
        """The data config recorded in run folders; its fractions and seed fix the split."""
        return DataConfig(images=str(self.images), labels=str(self.labels or ""), valence_file=str(self.valence_file or ""),
                          arousal_file=str(self.arousal_file or ""), size=self.size)

    def load(self, progress: bool = True):
        """The dataset at this session's size (decoded once, then from the cache)."""
        return load_dataset(self.images, labels=self.labels, valence_file=self.valence_file,
                            arousal_file=self.arousal_file, size=self.size, id_column=self.id_column,
                            valence_column=self.valence_column, arousal_column=self.arousal_column,
                            extensions=self.extensions, progress=progress)

    def split(self, progress: bool = True):
        """(train, val, test): the seeded split of ``data_config`` that every notebook and the CLI use."""
        return self.load(progress).split(self.data_config)

    def vae_config(self, **overrides):
        return preset(self.preset, "vae", **overrides)

    def gan_config(self, **overrides):
        return preset(self.preset, "gan", **overrides)

    def diffusion_config(self, **overrides):
        return preset(self.preset, "diffusion", **overrides)

    def diffusion_model_config(self, **overrides):
        return diffusion_model_config(self.size, self.preset, **overrides)

    def model_config(self, **overrides):
        return model_config_for_size(self.size, self.preset, **overrides)

    @property
    def vae_path(self) -> Path:
        return self.weights / "vae_best.pth"

    @property
    def generator_path(self) -> Path:
        return self.weights / "progressive_gen_ema_best.pth"

    @property
    def diffusion_path(self) -> Path:
        return self.weights / "diffusion_ema.pth"

    def __str__(self):
        source = self.labels or f"{self.valence_file} + {self.arousal_file}"
        return (f"preset {self.preset!r} at {self.size}x{self.size} on {'CUDA' if torch.cuda.is_available() else 'the CPU'}\n"
                f"images:  {self.images}\nlabels:  {source}\nweights: {self.weights}")


def default_preset() -> str:
    name = os.environ.get("VA_PRESET") or ("full" if torch.cuda.is_available() else "quick")
    if name not in PRESETS:
        raise ValueError(f"VA_PRESET={name!r} is not a preset; use one of {', '.join(PRESETS)}")
    return name


def notebook_session(images=None, labels=None, valence_file=None, arousal_file=None, preset_name=None,
                     size: int = 64, weights=None, id_column: str = "image", valence_column: str = "valence",
                     arousal_column: str = "arousal", extensions=IMAGE_EXTENSIONS) -> Session:
    name = preset_name or default_preset()
    if images is None:
        folder = ensure_default_dataset(PRESETS[name]["data_images"])
        images, labels = folder / "images", folder / "labels.csv"
    weights = Path(weights) if weights else WEIGHTS_ROOT / name
    weights.mkdir(parents=True, exist_ok=True)
    if isinstance(extensions, str):  # ".jpg,.png", as on the command line
        extensions = tuple(extensions.split(","))
    return Session(name, size, Path(images), Path(labels) if labels else None,
                   Path(valence_file) if valence_file else None, Path(arousal_file) if arousal_file else None, weights,
                   id_column, valence_column, arousal_column, tuple(extensions))


def ensure_vae(session: Session, progress: bool = True) -> Path:
    """The session's ``vae_best.pth``, training it first if notebook 02 has not run."""
    if not session.vae_path.is_file():
        from helpers.training.vae import train_vae

        train, val, test = session.split(progress)
        train_vae(session.vae_config(), session.model_config(), train, val, out_dir=session.weights,
                  data_config=session.data_config, progress=progress, test=test)
    return session.vae_path


def ensure_generator(session: Session, progress: bool = True) -> Path:
    """The session's ``progressive_gen_ema_best.pth``, training VAE and GAN first if needed."""
    if not session.generator_path.is_file():
        from helpers.training.gan import train_gan

        vae_path = ensure_vae(session, progress)
        train, val, test = session.split(progress)
        train_gan(session.gan_config(), train, val, vae_path, out_dir=session.weights,
                  data_config=session.data_config, progress=progress, test=test)
    return session.generator_path


def generator_to_show(session: Session, progress: bool = True) -> tuple:
    """(checkpoint path, one sentence saying which model it is) for the diagnostics and sliders:
    this preset's own trained generator if there is one, else the shipped reference model (at
    the session's size), else a new training run of this preset."""
    if session.generator_path.is_file():
        return session.generator_path, f"your own `{session.preset}` model ({session.generator_path})"
    if REFERENCE_GENERATOR.is_file() and session.size == 64:
        return REFERENCE_GENERATOR, (f"the shipped reference model ({REFERENCE_GENERATOR}); train your own in notebooks "
                                     f"02-03 and it is shown instead")
    return ensure_generator(session, progress), f"your own `{session.preset}` model, trained just now ({session.generator_path})"
