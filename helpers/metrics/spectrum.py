"""How much of an image set's variation sits at each spatial frequency: the radially averaged power
spectrum of the grey levels, the measure Durall et al. (CVPR 2020) used to show that GAN images carry
too much or too little energy at the finest frequencies. Compared as fakes over reals, a ratio
above 1 at the highest radii is grain or a pixel grid the real images do not have."""

import numpy as np


def radial_power_spectrum(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) square images -> mean power at each integer radius 0 .. H/2 of the centred 2-D spectrum
    (radius in cycles per image; H/2 is the Nyquist frequency). Each image's own mean is removed first."""
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"radial_power_spectrum takes square images shaped (N, H, H, 3); got {images.shape}")
    grey = images.astype(np.float64).mean(axis=-1)
    grey -= grey.mean(axis=(1, 2), keepdims=True)
    power = np.fft.fftshift((np.abs(np.fft.fft2(grey)) ** 2).mean(axis=0))
    size = grey.shape[1]
    rows, columns = np.indices((size, size))
    radius = np.rint(np.hypot(rows - size // 2, columns - size // 2)).astype(int)
    keep = radius <= size // 2  # the corners beyond Nyquist have no full ring
    return np.bincount(radius[keep], power[keep]) / np.bincount(radius[keep])


def top_octave(size: int) -> np.ndarray:
    """The radii of the finest octave of a size x size image's spectrum: H/4 .. H/2 (detail of 2-4 pixels)."""
    return np.arange(size // 4, size // 2 + 1)


def spectrum_ratio(spectrum: np.ndarray, reference: np.ndarray) -> float:
    """The top octave's power in one ``radial_power_spectrum`` over another's."""
    top = top_octave(2 * (len(spectrum) - 1))
    return float(spectrum[top].sum() / reference[top].sum())


def top_octave_power_ratio(images: np.ndarray, reference: np.ndarray) -> float:
    """Power of ``images`` over that of ``reference`` in the top octave (radii H/4 .. H/2): 1 when their finest
    detail carries as much energy, above 1 for grain or a grid, below 1 for blur."""
    return spectrum_ratio(radial_power_spectrum(images), radial_power_spectrum(reference))
