"""Distances between two sets of image features: KID and FID, and the floor a real set sets.

Both take float arrays (N, D), usually the 2048-d Inception features of ``inception.py``.
Lower is better; neither is zero for two finite samples of the same distribution, which is why
``real_vs_real_floor`` measures what two halves of the real set score against each other.
"""

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


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al., ICLR 2018): (mean, std) over random subsets.

    Each subset draws ``subset_size`` rows without replacement from each set (capped at the
    smaller set's size) and computes the unbiased MMD^2 with the cubic polynomial kernel. The
    estimate is unbiased, so it can be slightly negative for two samples of one distribution.
    When both sets are no larger than ``subset_size`` every subset is the whole set and the std
    is 0. The subsets are drawn from ``np.random.default_rng(seed)``: same inputs, same number.
    """
    features_a = np.asarray(features_a, dtype=np.float64)
    features_b = np.asarray(features_b, dtype=np.float64)
    size = min(subset_size, len(features_a), len(features_b))
    if size < 2:
        raise ValueError(
            f"KID needs at least 2 feature rows in each set; got {len(features_a)} and {len(features_b)}. "
            "Use at least 100 images per set for a usable number (1000+ recommended)."
        )
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
    return float(values.mean()), float(values.std())


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
    """
    features = np.asarray(features, dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(features))
    half = len(features) // 2
    first, second = features[order[:half]], features[order[half : 2 * half]]
    kid_mean, kid_std = kid(first, second, subset_size=subset_size, subsets=subsets, seed=seed)
    return {"kid_mean": kid_mean, "kid_std": kid_std, "fid": fid(first, second), "n_per_half": int(half)}
