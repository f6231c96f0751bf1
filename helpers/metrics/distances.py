"""Distances between two sets of image features: KID and FID, and the floor a real set sets.

Both take float arrays (N, D), usually the 2048-d Inception features of ``inception.py``.
Lower is better; neither is zero for two finite samples of the same distribution, which is why
``real_vs_real_floor`` measures what two halves of the real set score against each other.
``sliding_window_kid`` asks the same question locally, in windows over the valence-arousal plane.
"""

from typing import NamedTuple

import numpy as np


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3, the kernel of Binkowski et al. (2018), Section 4."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al., 2012, Lemma 6) from kernel matrices: diagonals left out."""
    m, n = len(k_xx), len(k_yy)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


# Up to this many rows in both sets together, the three kernel matrices are computed once
# (5000 rows: 200 MB of float64) and subsets index into them; each subset otherwise costs
# three (subset x D x subset) products, which on a CPU dominates for 100 subsets.
KERNEL_CACHE_ROWS = 5000


class KID(NamedTuple):
    """A KID estimate: mean and std over ``subsets`` random subsets of ``subset_size`` rows per set."""

    mean: float
    std: float
    subset_size: int
    subsets: int


def kid_subset_size(requested: int, rows_a: int, rows_b: int) -> int:
    """At most half of the smaller set, so that random subsets differ and their spread means
    something (subsets as large as a set are all that set: the std would be 0). At least 2,
    the smallest size the unbiased estimate is defined for."""
    return max(2, min(requested, rows_a // 2, rows_b // 2))


def kid_subset_values(features_a: np.ndarray, features_b: np.ndarray, subset_size: int = 1000, subsets: int = 100,
                      seed: int = 0) -> np.ndarray:
    """The unbiased MMD^2 of each of ``kid``'s random subsets (see ``kid``), in the order drawn. The draws depend only
    on the seed and the two sets' sizes, so two generators' fakes scored against the same reals with the same seed and
    as many rows are scored on the same subsets: their values pair up (``benchmarks/paired_kid.py``)."""
    features_a = np.asarray(features_a, dtype=np.float64)
    features_b = np.asarray(features_b, dtype=np.float64)
    if min(len(features_a), len(features_b)) < 2 or subsets < 2:
        raise ValueError(
            f"KID needs at least 2 feature rows in each set and 2 subsets; got {len(features_a)} and "
            f"{len(features_b)} rows, {subsets} subsets. Use at least 100 images per set for a usable "
            "number (1000+ recommended)."
        )
    size = kid_subset_size(subset_size, len(features_a), len(features_b))
    cached = len(features_a) + len(features_b) <= KERNEL_CACHE_ROWS
    if cached:
        k_aa = _polynomial_kernel(features_a, features_a)
        k_bb = _polynomial_kernel(features_b, features_b)
        k_ab = _polynomial_kernel(features_a, features_b)
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for index in range(subsets):
        rows_a = rng.choice(len(features_a), size, replace=False)
        rows_b = rng.choice(len(features_b), size, replace=False)
        if cached:
            kernels = k_aa[np.ix_(rows_a, rows_a)], k_bb[np.ix_(rows_b, rows_b)], k_ab[np.ix_(rows_a, rows_b)]
        else:
            subset_a, subset_b = features_a[rows_a], features_b[rows_b]
            kernels = (
                _polynomial_kernel(subset_a, subset_a),
                _polynomial_kernel(subset_b, subset_b),
                _polynomial_kernel(subset_a, subset_b),
            )
        values[index] = _unbiased_mmd2(*kernels)
    return values


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
) -> KID:
    """Kernel Inception Distance (Binkowski et al., ICLR 2018): mean and std over random subsets.

    Each subset draws ``kid_subset_size(subset_size, N_a, N_b)`` rows without replacement from
    each set (first from a, then from b, with ``np.random.default_rng(seed)``: same inputs, same
    number) and computes the unbiased MMD^2 with the cubic polynomial kernel. The mean over
    subsets estimates the same quantity as the whole sets would; the std is the spread of the
    subset estimates. The estimate is unbiased, so it can be slightly negative for two samples of
    one distribution. With only 2 rows in both sets no two subsets can differ: the std is NaN.
    """
    values = kid_subset_values(features_a, features_b, subset_size, subsets, seed)
    size = kid_subset_size(subset_size, len(features_a), len(features_b))
    identical_subsets = size == len(features_a) == len(features_b)
    return KID(float(values.mean()), float("nan") if identical_subsets else float(values.std()), size, subsets)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def _centred_scaled(features: np.ndarray) -> np.ndarray:
    """U with U.T @ U equal to the sample covariance (N - 1 in the denominator, as np.cov)."""
    return (features - features.mean(axis=0)) / np.sqrt(len(features) - 1)


def trace_sqrt_product(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Tr sqrt(sigma_a sigma_b) for the covariances of two feature sets, computed stably.

    sigma_a sigma_b is not symmetric, and ``scipy.linalg.sqrtm`` of it can return complex values
    or lose accuracy when the covariances are singular (fewer images than features). Two exact
    routes avoid that, and we take the cheaper:

    * few rows (N_a + N_b < D): with sigma = U.T U, the non-zero eigenvalues of sigma_a sigma_b
      are the squared singular values of U_a U_b.T (N_a x N_b), so the trace is their sum;
    * otherwise sigma_a sigma_b has the eigenvalues of the symmetric PSD matrix
      sqrt(sigma_a) sigma_b sqrt(sigma_a) (D x D); the trace is the sum of their square roots.
    """
    scaled_a, scaled_b = _centred_scaled(features_a), _centred_scaled(features_b)
    if len(features_a) + len(features_b) < features_a.shape[1]:
        return float(np.linalg.svd(scaled_a @ scaled_b.T, compute_uv=False).sum())
    root_a = _psd_sqrt(scaled_a.T @ scaled_a)
    eigenvalues = np.linalg.eigvalsh(root_a @ (scaled_b.T @ scaled_b) @ root_a)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (Heusel et al., NeurIPS 2017).

    FID = |mu_a - mu_b|^2 + Tr(sigma_a + sigma_b - 2 sqrt(sigma_a sigma_b)). It is biased upwards
    for small sets, so compare FIDs only at equal set sizes.
    """
    features_a = np.asarray(features_a, dtype=np.float64)
    features_b = np.asarray(features_b, dtype=np.float64)
    if len(features_a) < 2 or len(features_b) < 2:
        raise ValueError(
            f"FID needs at least 2 feature rows in each set; got {len(features_a)} and {len(features_b)}. "
            "Use thousands of images for a number comparable with published ones."
        )
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    # Tr(sigma) is the summed per-feature variance; no D x D matrix is needed for it.
    distance = (
        np.sum((mean_a - mean_b) ** 2)
        + features_a.var(axis=0, ddof=1).sum()
        + features_b.var(axis=0, ddof=1).sum()
        - 2.0 * trace_sqrt_product(features_a, features_b)
    )
    # Rounding can leave -1e-10 for identical sets; a distance is never negative.
    return float(max(distance, 0.0))


def real_vs_real_floor(
    features: np.ndarray,
    seed: int = 0,
    subset_size: int = 1000,
    subsets: int = 100,
) -> dict:
    """KID and FID between two random halves of one real feature set: the best a model can expect.

    A generator whose KID/FID is near this floor is indistinguishable from real images at this
    sample size (each half has N // 2 rows, so its FID is biased upwards relative to N vs N).
    KID subsets hold ``kid_subset_size(subset_size, N // 2, N // 2)`` rows; score a model with
    the same ``kid_subset_size`` so both spreads come from subsets of one size.
    """
    features = np.asarray(features, dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(features))
    half = len(features) // 2
    first, second = features[order[:half]], features[order[half : 2 * half]]
    result = kid(first, second, subset_size=subset_size, subsets=subsets, seed=seed)
    return {"kid_mean": result.mean, "kid_std": result.std, "kid_subset_size": result.subset_size,
            "fid": fid(first, second), "n_per_half": int(half)}


def sliding_window_kid(
    fake_features: np.ndarray,
    fake_valence: np.ndarray,
    fake_arousal: np.ndarray,
    real_features: np.ndarray,
    real_valence: np.ndarray,
    real_arousal: np.ndarray,
    steps: int = 9,
    radius: float = 1.5,
    min_images: int = 10,
    subset_size: int = 100,
    subsets: int = 20,
    seed: int = 0,
) -> dict:
    """Where on the VA plane is the model good? KID of generated vs real images in windows.

    The sliding-window FID of CcGAN (Ding et al., ICLR 2021, Section 5) on two labels: window
    centres on a ``steps`` x ``steps`` grid over 1-9, each window holding the images whose
    (valence, arousal) lies within ``radius`` rating points of its centre; for fakes that is the
    label they were requested at. Fakes should be requested at the real images' own labels, so
    a window compares the two sets at the same labels. KID instead of FID because it is unbiased
    at the few dozen images a window holds. Windows with fewer than ``min_images`` real or
    generated images are NaN.

    Returns {"levels": the centres (1-9), "kid_mean", "kid_std", "n_real", "n_fake": (steps,
    steps) arrays indexed [arousal, valence], arousal rising with the row index, "radius",
    "min_images"}.
    """
    levels = np.linspace(1.0, 9.0, steps)
    out = {name: np.full((steps, steps), np.nan) for name in ("kid_mean", "kid_std")}
    out.update(n_real=np.zeros((steps, steps), int), n_fake=np.zeros((steps, steps), int))
    for row, centre_arousal in enumerate(levels):
        for column, centre_valence in enumerate(levels):
            in_real = np.hypot(real_valence - centre_valence, real_arousal - centre_arousal) <= radius
            in_fake = np.hypot(fake_valence - centre_valence, fake_arousal - centre_arousal) <= radius
            out["n_real"][row, column], out["n_fake"][row, column] = in_real.sum(), in_fake.sum()
            if min(in_real.sum(), in_fake.sum()) >= min_images:
                result = kid(fake_features[in_fake], real_features[in_real], subset_size, subsets, seed)
                out["kid_mean"][row, column], out["kid_std"][row, column] = result.mean, result.std
    return {"levels": levels, **out, "radius": float(radius), "min_images": int(min_images)}
