"""The procedural landscape dataset: determinism, files, label mapping and its link to colour."""

import csv
import dataclasses

import numpy as np
import pytest
from PIL import Image

from helpers.data import synth
from helpers.data.synth import (
    CONTACT_MARGIN,
    Scene,
    contact_sheet,
    landscape_va,
    render_landscape,
    sample_scene,
    scene_va,
    soft_bounds,
    write_dataset,
)


def _scene(**changes) -> Scene:
    """A neutral mid-day meadow; tests change only what they are about."""
    base = Scene(time="day", weather="clear", ground="meadow", horizon=0.6, sun_x=0.5, sun_height=0.5,
                 ridges=2, ridge_height=0.4, cloud_cover=0.2, fog=0.05, colourfulness=0.5, contrast=1.05,
                 wind=0.3, trees=2, treeline=True, lightning=False)
    return dataclasses.replace(base, **changes)


def test_same_seed_and_id_give_the_same_image_and_labels():
    a, va, aa = render_landscape(3, 17)
    b, vb, ab = render_landscape(3, 17)
    assert np.array_equal(a, b) and (va, aa) == (vb, ab)
    other, _, _ = render_landscape(3, 18)
    assert not np.array_equal(a, other)
    assert not np.array_equal(a, render_landscape(4, 17)[0])


@pytest.mark.parametrize("size", [64, 96, 128])
def test_shapes_and_dtype(size):
    image, valence, arousal = render_landscape(0, 5, size=size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert 1.0 <= valence <= 9.0 and 1.0 <= arousal <= 9.0


def test_small_sizes_are_the_128_render_downsampled():
    big, v128, a128 = render_landscape(0, 9, size=128)
    small, v64, a64 = render_landscape(0, 9, size=64)
    expected = np.asarray(Image.fromarray(big).resize((64, 64), Image.LANCZOS))
    assert np.array_equal(small, expected)
    assert (v64, a64) == (v128, a128)


def test_labels_in_range_and_spread():
    va = np.array([landscape_va(0, i) for i in range(1, 1001)])
    assert va.min() >= 1.0 and va.max() <= 9.0
    low, high = np.percentile(va, [5, 95], axis=0)
    assert (low < 3.0).all() and (high > 7.0).all(), (low, high)


def test_no_labels_pile_up_at_the_bounds():
    # A clip at 1 and 9 put ~80 of 2,000 arousal labels at exactly 9.0; crowd averages rarely reach a bound.
    va = np.round([landscape_va(0, i) for i in range(1, 2001)], 2)
    assert ((va <= 1.01) | (va >= 8.99)).sum() <= 2
    top_bin, next_bin = np.histogram(va[:, 1], bins=16, range=(1, 9))[0][-2:][::-1]
    assert top_bin <= 1.5 * next_bin, (top_bin, next_bin)  # no spike in the last half point


def test_soft_bounds_is_the_identity_near_the_middle_and_monotone():
    x = np.linspace(-5, 15, 401)
    y = soft_bounds(x)
    assert np.allclose(y[np.abs(x - 5) <= 2], x[np.abs(x - 5) <= 2])
    assert (np.diff(y) > 0).all() and y.min() > 1.0 and y.max() < 9.0


def test_landscape_va_matches_render():
    for image_id in (1, 2, 3):
        _, valence, arousal = render_landscape(1, image_id, size=64)
        assert landscape_va(1, image_id) == (valence, arousal)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_va_quadrant_holds_at_least_15_percent(seed):
    va = np.array([landscape_va(seed, i) for i in range(1, 401)])
    high_v, high_a = va[:, 0] >= 5, va[:, 1] >= 5
    quadrants = [np.mean(~high_v & ~high_a), np.mean(~high_v & high_a), np.mean(high_v & ~high_a), np.mean(high_v & high_a)]
    assert min(quadrants) >= 0.15, quadrants


def test_anchor_scenes():
    storm_v, storm_a = scene_va(_scene(weather="storm", cloud_cover=0.95, wind=0.6))
    assert storm_v < 5 and storm_a > 5
    night_v, night_a = scene_va(_scene(time="night", weather="fog", fog=0.7, colourfulness=0.4, wind=0.1))
    assert night_v < 5 and night_a < 5
    meadow_v, meadow_a = scene_va(_scene())
    assert meadow_v > 6 and 3.5 < meadow_a < 6.5
    sunset_v, sunset_a = scene_va(_scene(time="golden", colourfulness=0.95, contrast=1.2))
    assert sunset_v > 5 and sunset_a > 5
    dawn_v, dawn_a = scene_va(_scene(time="dawn", colourfulness=0.1, contrast=0.9, wind=0.05))
    assert dawn_v > 5 and dawn_a < 5


def test_anchors_hold_for_sampled_scenes():
    rng = np.random.default_rng(7)
    scenes = [sample_scene(rng) for _ in range(3000)]

    def share(select, holds):
        va = [scene_va(s) for s in scenes if select(s)]
        assert len(va) > 20
        return np.mean([holds(v, a) for v, a in va])

    assert share(lambda s: s.weather == "storm", lambda v, a: v < 5 and a > 5) > 0.9
    assert share(lambda s: s.time == "night" and s.weather == "fog", lambda v, a: v < 5 and a < 5) > 0.9
    assert share(lambda s: s.time == "day" and s.weather == "clear", lambda v, a: v > 5) > 0.9
    assert share(lambda s: s.time == "golden" and s.weather == "clear" and s.colourfulness > 0.7,
                 lambda v, a: v > 5 and a > 5) > 0.9


def test_each_scene_factor_moves_labels_the_documented_way():
    v, a = scene_va(_scene())
    assert scene_va(_scene(colourfulness=0.9))[1] > a  # saturation raises arousal
    assert scene_va(_scene(wind=0.9))[1] > a  # waves and wind raise arousal
    assert scene_va(_scene(contrast=1.2))[1] > a
    assert scene_va(_scene(weather="rain"))[0] < v  # gloom lowers valence
    assert scene_va(_scene(time="night"))[0] < v  # darkness lowers valence
    assert scene_va(_scene(time="golden"))[0] > scene_va(_scene(time="dusk"))[0]  # warm light


def test_sampled_scenes_are_consistent():
    rng = np.random.default_rng(0)
    for _ in range(300):
        s = sample_scene(rng)
        assert s.time in synth.TIMES and s.weather in synth.WEATHERS and s.ground in synth.GROUNDS
        assert 1 <= s.ridges <= 3 and 0.0 <= s.colourfulness <= 1.0
        assert not (s.ground == "desert" and s.weather in ("rain", "snow"))
        assert not s.lightning or s.weather == "storm"


def test_labels_follow_image_colour():
    """Brighter images get higher valence; more colourful ones higher arousal (what a GAN can learn)."""
    brightness, chroma, valence, arousal = [], [], [], []
    for image_id in range(1, 301):
        image, v, a = render_landscape(0, image_id, size=64)
        rgb = image.astype(np.float32) / 255.0
        brightness.append(rgb.mean())
        chroma.append((rgb.max(axis=2) - rgb.min(axis=2)).mean())
        valence.append(v)
        arousal.append(a)
    assert np.corrcoef(brightness, valence)[0, 1] > 0.3
    assert np.corrcoef(chroma, arousal)[0, 1] > 0.1


def test_storms_are_darker_than_clear_days():
    rng = np.random.default_rng(0)
    storm = synth.render_scene(_scene(weather="storm", cloud_cover=0.95), rng).mean()
    clear = synth.render_scene(_scene(), rng).mean()
    night = synth.render_scene(_scene(time="night"), rng).mean()
    assert night < storm < clear


def _read_labels(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_write_dataset_is_byte_identical(tmp_path):
    first = write_dataset(tmp_path / "a", n=20, size=64, seed=5, progress=False)
    second = write_dataset(tmp_path / "b", n=20, size=64, seed=5, progress=False)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 22  # 20 images + labels.csv + version.txt, no temp file left behind
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel

    rows = _read_labels(first / "labels.csv")
    assert rows[0] == ["image", "valence", "arousal"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 21))
    _, valence, arousal = render_landscape(5, 7, size=64)
    assert rows[7][1:] == [f"{valence:.2f}", f"{arousal:.2f}"]
    with Image.open(first / "images" / "7.jpg") as im:
        assert im.size == (64, 64) and im.format == "JPEG" and "exif" not in im.info


def test_interrupted_write_leaves_no_labels(tmp_path, monkeypatch):
    out = write_dataset(tmp_path, n=3, size=64, progress=False)
    assert (out / "labels.csv").exists()

    def fail_on_third(seed, image_id, size):
        if image_id == 3:
            raise KeyboardInterrupt
        return render_landscape(seed, image_id, size)

    monkeypatch.setattr(synth, "render_landscape", fail_on_third)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path, n=5, size=64, progress=False)
    assert not (out / "labels.csv").exists()  # the old labels described a different run


def test_contact_sheet(tmp_path):
    dataset = write_dataset(tmp_path / "ds", n=30, size=64, progress=False)
    png = contact_sheet(dataset, tmp_path / "sheet.png", cells=5, cell_size=32)
    with Image.open(png) as sheet:
        assert sheet.format == "PNG"
        assert sheet.size == (5 * 32 + CONTACT_MARGIN, 5 * 32 + CONTACT_MARGIN)
        grid = np.asarray(sheet.convert("RGB"))[: 5 * 32, CONTACT_MARGIN:]
    cells = grid.reshape(5, 32, 5, 32, 3).transpose(0, 2, 1, 3, 4).reshape(25, -1)
    grey = np.all(cells == 128, axis=1)
    assert 0 < grey.sum() < 25  # 30 images fill some cells, not all


def test_contact_sheet_names_a_bad_row(tmp_path):
    dataset = write_dataset(tmp_path, n=3, size=64, progress=False)
    with open(dataset / "labels.csv", "a") as f:
        f.write("4,high,5.0\n")
    with pytest.raises(ValueError, match="line 5"):
        contact_sheet(dataset, tmp_path / "sheet.png")


def test_an_old_default_dataset_is_rendered_again(tmp_path, monkeypatch):
    import helpers.data as data

    monkeypatch.setattr(data, "DEFAULT_DATA_ROOT", tmp_path)
    folder = data.ensure_default_dataset(n=3, progress=False)
    assert synth.dataset_version(folder) == synth.DATASET_VERSION
    (folder / "labels.csv").write_text("image,valence,arousal\n1,9.00,9.00\n")  # as an old label model wrote it
    (folder / "version.txt").unlink()
    assert data.ensure_default_dataset(n=3, progress=False) == folder
    assert synth.dataset_version(folder) == synth.DATASET_VERSION
    assert "9.00,9.00" not in (folder / "labels.csv").read_text()
    before = (folder / "labels.csv").stat().st_mtime_ns
    data.ensure_default_dataset(n=3, progress=False)  # up to date: left alone
    assert (folder / "labels.csv").stat().st_mtime_ns == before
