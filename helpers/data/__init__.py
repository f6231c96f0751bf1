"""Data: label readers, image decoding, the cached dataset, and the procedural default set."""

from pathlib import Path

from helpers.data.dataset import DataError, DataReport, LabelledImages, Split, load_dataset
from helpers.data.labels import LabelError, Skipped

# The project's data/ folder when run from a checkout; the working directory's otherwise.
_CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_DATA_ROOT = _CHECKOUT_DATA if (_CHECKOUT_DATA / "README.md").is_file() else Path.cwd() / "data"


def default_dataset_dir(n: int = 2000) -> Path:
    """Where the procedural landscapes live: ``data/landscapes`` (``data/landscapes-<n>`` if n != 2000)."""
    return DEFAULT_DATA_ROOT / ("landscapes" if n == 2000 else f"landscapes-{n}")


def ensure_default_dataset(n: int = 2000, seed: int = 0, progress: bool = True) -> Path:
    """Render the default dataset once (128 px; smaller sizes are made when loading); its folder."""
    from helpers.data.synth import DATASET_VERSION, dataset_version, write_dataset

    folder = default_dataset_dir(n) if seed == 0 else DEFAULT_DATA_ROOT / f"landscapes-{n}-seed{seed}"
    if (folder / "labels.csv").is_file() and dataset_version(folder) != DATASET_VERSION:
        print(f"{folder} was rendered by an older version of the procedural set; rendering it again")
    elif (folder / "labels.csv").is_file():
        return folder
    write_dataset(folder, n=n, size=128, seed=seed, progress=progress)
    return folder


def load_default_dataset(size: int = 64, n: int = 2000, progress: bool = True) -> LabelledImages:
    folder = ensure_default_dataset(n, progress=progress)
    return load_dataset(folder / "images", labels=folder / "labels.csv", size=size, progress=progress)


__all__ = [
    "DataError", "DataReport", "LabelError", "LabelledImages", "Skipped", "Split", "DEFAULT_DATA_ROOT",
    "default_dataset_dir", "ensure_default_dataset", "load_dataset", "load_default_dataset",
]
