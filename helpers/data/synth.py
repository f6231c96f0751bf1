"""Procedural landscapes with known valence and arousal: the default dataset.

The real dataset (CGnA10766, photos with crowd-averaged ratings) cannot ship, so we render
our own. Each image comes from a ``Scene`` (time of day, weather, ground, colourfulness, ...)
sampled from ``np.random.default_rng([seed, image_id])``, so (seed, image_id) always gives the
same picture and the same labels, in any order (bit-exact for a given numpy and Pillow build).

Labels follow from the scene through a fixed formula built on colour-emotion findings.
Valdez & Mehrabian (1994), colour chips with standardised brightness B and saturation S:

    Pleasure = 0.69 B + 0.22 S        Arousal = -0.31 B + 0.60 S

Photos add that warm light raises valence, and that contrast and dynamic weather (storm,
rain, wind, waves) raise arousal. Scene quantities (tables ``TIMES`` and ``WEATHERS``):

    B  brightness  = time.brightness * weather.light         0.04 (night storm) .. 0.95 (clear day)
    S  saturation  = grading factor * time.chroma              grading = (0.35 + colourfulness) * weather.saturation
    W  warmth      = time.warmth                              -0.8 (night) .. 0.9 (golden hour)
    G  gloom       = weather.gloom                             0 (clear) .. 1 (storm)
    D  dynamics    = weather.dynamics + 0.6 wind + 0.5 lightning
    C  contrast    = grading contrast                          0.85 .. 1.25

    latent V = 5 + 5 (0.69 (B - 0.45) + 0.22 (S - 0.65)) + 0.8 W - 1.3 G
    latent A = 5 + 9 (-0.31 (B - 0.45) + 0.60 (S - 0.65)) + 1.6 (D - 0.3) + 4.0 (C - 1.05)

The B and S terms keep Valdez & Mehrabian's weights, scaled so that the range of B or S moves
a rating by a few units; the offsets centre the dataset near (5, 5), so that each quadrant of
the VA plane holds 20-30 % of the images (tests/test_synth.py checks at least 15 %). The
renderer applies the same B (light), S (grading saturation) and C (grading contrast) to the
pixels, so the labels are visible in the colours. Like a crowd average, a label is the latent
value plus Gaussian rating noise (sd 0.5), then squashed softly into (1, 9): unchanged within 2 of the
middle, bending towards the bounds beyond (``soft_bounds``), so that no rating piles up at exactly 1 or 9,
as crowd averages rarely do. Anchors (tested): a storm is low V / high A,
a misty night low V / low A, a sunny meadow high V / middle A, a vivid golden hour high V /
high A, a pale calm dawn high V / low A.

The renderer is vectorised numpy on channel-first (3, H, W) float arrays: sky gradient, sun
or moon glow, value-noise clouds, fractal ridges with aerial perspective, ground or mirrored
water, tree silhouettes, fog, rain, snow, lightning, colour grading. A 128 x 128 image takes
a few milliseconds.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

RENDER_SIZE = 128  # scenes are drawn at least this big, then resized with LANCZOS
RATING_NOISE_SD = 0.5  # spread of a crowd average around the latent value


@dataclass(frozen=True)
class TimeOfDay:
    zenith: tuple  # sky colour overhead (sRGB 0-1)
    horizon: tuple  # sky colour at the horizon
    sun: tuple  # colour of the sun (the moon at night)
    ambient: tuple  # light on ground, ridges and trees
    brightness: float  # B in the VA formula
    chroma: float  # how colourful the palette is, part of S
    warmth: float  # W in the VA formula
    sun_height: tuple  # range of the sun's height above the horizon, fraction of the sky


@dataclass(frozen=True)
class Weather:
    light: float  # multiplies the time of day's brightness
    saturation: float  # multiplies the colour grading's saturation
    overcast: float  # how far the sky turns grey
    clouds: tuple  # range of cloud cover
    fog: tuple  # range of fog density
    dynamics: float  # D in the VA formula
    gloom: float  # G in the VA formula


# columns: zenith, horizon, sun, ambient, brightness (B), chroma, warmth (W), sun height range
TIMES = {
    "dawn": TimeOfDay((0.40, 0.50, 0.76), (1.0, 0.78, 0.70), (1.0, 0.92, 0.78), (0.86, 0.78, 0.80), 0.65, 0.75, 0.3, (0.03, 0.2)),
    "day": TimeOfDay((0.16, 0.40, 0.82), (0.68, 0.84, 0.97), (1.0, 1.0, 0.94), (1.0, 0.99, 0.94), 0.95, 1.0, 0.1, (0.4, 0.85)),
    "golden": TimeOfDay((0.30, 0.40, 0.68), (1.0, 0.66, 0.30), (1.0, 0.85, 0.5), (1.0, 0.76, 0.48), 0.75, 1.1, 0.9, (0.03, 0.25)),
    "dusk": TimeOfDay((0.10, 0.10, 0.30), (0.90, 0.40, 0.32), (1.0, 0.5, 0.28), (0.46, 0.36, 0.46), 0.35, 0.95, 0.2, (-0.08, 0.05)),
    "night": TimeOfDay((0.01, 0.02, 0.07), (0.07, 0.11, 0.22), (0.92, 0.94, 1.0), (0.2, 0.24, 0.4), 0.1, 0.45, -0.8, (0.35, 0.85)),
}
TIME_PROBS = {"dawn": 0.17, "day": 0.28, "golden": 0.2, "dusk": 0.15, "night": 0.2}

# columns: light, saturation, overcast, cloud cover range, fog range, dynamics (D), gloom (G)
WEATHERS = {
    "clear": Weather(1.0, 1.0, 0.0, (0.0, 0.35), (0.0, 0.1), 0.0, 0.0),
    "cloudy": Weather(0.8, 0.85, 0.3, (0.45, 0.75), (0.0, 0.15), 0.2, 0.25),
    "fog": Weather(0.75, 0.5, 0.55, (0.1, 0.4), (0.55, 0.85), -0.2, 0.35),
    "rain": Weather(0.55, 0.65, 0.7, (0.75, 0.95), (0.1, 0.3), 0.8, 0.7),
    "snow": Weather(0.85, 0.6, 0.55, (0.6, 0.9), (0.1, 0.3), 0.4, 0.15),
    "storm": Weather(0.4, 0.8, 0.8, (0.85, 1.0), (0.0, 0.15), 1.2, 1.0),
}
WEATHER_PROBS = {"clear": 0.38, "cloudy": 0.2, "fog": 0.12, "rain": 0.1, "snow": 0.08, "storm": 0.12}

GROUNDS = ("water", "meadow", "forest", "snow", "desert")
GROUND_PROBS = (0.3, 0.25, 0.2, 0.12, 0.13)


@dataclass(frozen=True)
class Scene:
    time: str  # key of TIMES
    weather: str  # key of WEATHERS
    ground: str  # one of GROUNDS
    horizon: float  # horizon height, fraction of the image from the top
    sun_x: float  # sun (or moon) position across, 0-1
    sun_height: float  # above the horizon, fraction of the sky
    ridges: int  # 1-3 mountain ridges
    ridge_height: float  # the tallest ridge, fraction of the sky
    cloud_cover: float  # 0-1
    fog: float  # 0-1
    colourfulness: float  # 0-1, drives the saturation of the colour grading
    contrast: float  # 0.85-1.25
    wind: float  # 0-1: waves on water, slant of rain
    trees: int  # number of foreground trees
    treeline: bool  # a row of small trees along the horizon
    lightning: bool

    @property
    def grading_saturation(self) -> float:
        """Saturation factor of the colour grading (1 = unchanged)."""
        return (0.35 + self.colourfulness) * WEATHERS[self.weather].saturation

    @property
    def brightness(self) -> float:
        """B in the VA formula."""
        return TIMES[self.time].brightness * WEATHERS[self.weather].light

    @property
    def saturation(self) -> float:
        """S in the VA formula: the grading applied to the palette's own colourfulness."""
        return self.grading_saturation * TIMES[self.time].chroma


def _choice(rng, names, probs):
    """Pick a name with the given probabilities (faster than ``rng.choice(p=...)`` for one draw)."""
    cumulative = np.cumsum(probs) / np.sum(probs)
    return names[min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(names) - 1)]


def sample_scene(rng: np.random.Generator) -> Scene:
    """Draw the parameters of one landscape."""
    time = _choice(rng, list(TIME_PROBS), list(TIME_PROBS.values()))
    weather = _choice(rng, list(WEATHER_PROBS), list(WEATHER_PROBS.values()))
    ground = _choice(rng, GROUNDS, GROUND_PROBS)
    if ground == "desert" and weather in ("snow", "rain"):
        weather = "clear"  # deserts stay dry
    w = WEATHERS[weather]
    return Scene(
        time=time, weather=weather, ground=ground,
        horizon=float(rng.uniform(0.42, 0.6) if ground == "water" else rng.uniform(0.5, 0.7)),
        sun_x=float(rng.uniform(0.15, 0.85)),
        sun_height=float(rng.uniform(*TIMES[time].sun_height)),
        ridges=int(rng.integers(1, 4)),
        ridge_height=float(rng.uniform(0.2, 0.6)),
        cloud_cover=float(rng.uniform(*w.clouds)),
        fog=float(rng.uniform(*w.fog)),
        colourfulness=float(rng.uniform(0.0, 1.0)),
        contrast=float(rng.uniform(0.85, 1.25)),
        wind=float(rng.uniform(0.0, 1.0)),
        trees=int(rng.integers(0, 5)) if ground in ("meadow", "forest", "snow") else 0,
        treeline=bool(ground == "forest" or (ground != "desert" and rng.random() < 0.5)),
        lightning=bool(weather == "storm" and rng.random() < 0.5),
    )


def scene_va(scene: Scene) -> tuple[float, float]:
    """Latent valence and arousal (1-9, before rating noise); the formula is in the module docstring."""
    t, w = TIMES[scene.time], WEATHERS[scene.weather]
    b, s = scene.brightness, scene.saturation
    dynamics = w.dynamics + 0.6 * scene.wind + 0.5 * scene.lightning
    valence = 5 + 5 * (0.69 * (b - 0.45) + 0.22 * (s - 0.65)) + 0.8 * t.warmth - 1.3 * w.gloom
    arousal = 5 + 9 * (-0.31 * (b - 0.45) + 0.60 * (s - 0.65)) + 1.6 * (dynamics - 0.3) + 4.0 * (scene.contrast - 1.05)
    return float(valence), float(arousal)


def soft_bounds(rating: np.ndarray, linear: float = 2.0) -> np.ndarray:
    """Ratings kept as they are within ``linear`` of 5 and bent smoothly (tanh) towards 1 and 9 beyond:
    a hard clip would pile every rating past a bound onto exactly 1 or 9."""
    offset = np.asarray(rating, dtype=np.float64) - 5.0
    excess = np.maximum(np.abs(offset) - linear, 0.0)
    return 5.0 + np.sign(offset) * (np.minimum(np.abs(offset), linear) + (4.0 - linear) * np.tanh(excess / (4.0 - linear)))


def _rated_va(scene: Scene, rng: np.random.Generator) -> tuple[float, float]:
    """Latent VA plus crowd-rating noise, squashed softly into the 1-9 scale."""
    rated = soft_bounds(np.array(scene_va(scene)) + rng.normal(0.0, RATING_NOISE_SD, 2))
    return float(rated[0]), float(rated[1])


# --------------------------------------------------------------------------- noise


@lru_cache(maxsize=None)
def _upsample_matrix(n: int, cells: int, smooth: bool = True, perspective: str = "") -> np.ndarray:
    """(n, cells) matrix that interpolates ``cells`` control points onto ``n`` pixels.

    A matrix product is much faster than PIL or scipy for these tiny grids. Smooth uses
    Catmull-Rom cubic weights (no visible grid, unlike smoothstep); linear keeps ridge peaks sharp.
    ``perspective`` ("sky": horizon at the last pixel, "ground": at the first) spaces the
    pixels like a flat cloud deck or ground plane seen from eye level: detail shrinks
    towards the horizon.
    """
    pos = np.linspace(0.0, 1.0, n)
    if perspective:
        elevation = 1.0 - pos if perspective == "sky" else pos
        distance = 1.0 / (elevation + 0.25)  # 4 at the horizon, 0.8 at the far edge
        pos = (distance.max() - distance) / (distance.max() - distance.min())
    pos = pos * (cells - 1)
    left = np.minimum(pos.astype(int), cells - 2)
    t = pos - left
    if smooth:
        offsets = (-1, 0, 1, 2)
        weights = (0.5 * (-t**3 + 2 * t**2 - t), 0.5 * (3 * t**3 - 5 * t**2 + 2),
                   0.5 * (-3 * t**3 + 4 * t**2 + t), 0.5 * (t**3 - t**2))
    else:
        offsets, weights = (0, 1), (1.0 - t, t)
    m = np.zeros((n, cells), np.float32)
    for offset, weight in zip(offsets, weights):
        np.add.at(m, (np.arange(n), np.clip(left + offset, 0, cells - 1)), weight)  # edges repeat
    m.flags.writeable = False
    return m


def _normalise(a: np.ndarray) -> np.ndarray:
    a = a - a.min()
    return a / max(float(a.max()), 1e-6)


@lru_cache(maxsize=None)
def _noise2d_plan(h: int, w: int, rows: int, cols: int, octaves: int, perspective: str):
    """Grid shapes, row matrices and all column matrices stacked (amplitudes folded in)."""
    shapes = [(rows * 2**k, cols * 2**k) for k in range(octaves)]
    row_mats = [_upsample_matrix(h, r, True, perspective) for r, _ in shapes]
    col_mats = np.concatenate([0.5**k * _upsample_matrix(w, c).T for k, (_, c) in enumerate(shapes)])
    return shapes, row_mats, col_mats


def _noise2d(rng, h: int, w: int, rows: int, cols: int, octaves: int = 3, perspective: str = "") -> np.ndarray:
    """Fractal value noise in [0, 1]: octaves of random grids, each twice as fine and half as strong.

    The sum over octaves of rows_k @ grid_k @ cols_k is one product [rows_k @ grid_k]_k @ [cols_k]_k.
    """
    shapes, row_mats, col_mats = _noise2d_plan(h, w, rows, cols, octaves, perspective)
    left = np.concatenate([m @ rng.random(shape, dtype=np.float32) for m, shape in zip(row_mats, shapes)], axis=1)
    return _normalise(left @ col_mats)


@lru_cache(maxsize=None)
def _octave_matrix(n: int, cells: int, octaves: int, roughness: float, smooth: bool) -> np.ndarray:
    """All octaves of a 1-D fractal side by side, amplitudes folded in: noise = matrix @ random points."""
    blocks = [roughness**k * _upsample_matrix(n, cells * 2**k + 1, smooth) for k in range(octaves)]
    m = np.concatenate(blocks, axis=1)
    m.flags.writeable = False
    return m


def _noise1d(rng, n: int, cells: int = 3, octaves: int = 5, roughness: float = 0.5, smooth: bool = False) -> np.ndarray:
    """Fractal 1-D profile in [0, 1] (a mountain skyline, a hill crest)."""
    m = _octave_matrix(n, cells, octaves, roughness, smooth)
    return _normalise(m @ rng.random(m.shape[1], dtype=np.float32))


def _rgb(colour) -> np.ndarray:
    """A colour shaped (3, 1, 1), to broadcast over channel-first images."""
    return np.asarray(colour, np.float32).reshape(3, 1, 1)


def _paint(region: np.ndarray, colour, alpha: np.ndarray) -> None:
    """Blend ``colour`` over ``region`` (3, h, w) in place with a 2-D coverage ``alpha``."""
    region += (colour - region) * alpha


# --------------------------------------------------------------------------- layers


@lru_cache(maxsize=None)
def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    axis.flags.writeable = False
    return axis[:, None], axis[None, :]


class _Canvas:
    """One render in progress: the (3, H, W) image, pixel coordinates and the scene's light."""

    def __init__(self, scene: Scene, rng, size: int):
        self.scene, self.rng, self.size = scene, rng, size
        self.y, self.x = _coords(size)  # (H, 1) and (1, W), 0 to 1
        self.horizon_row = int(round(scene.horizon * size))
        self.scale = size / RENDER_SIZE  # pixel-sized details (ripples, streaks) grow with the image
        t, w = TIMES[scene.time], WEATHERS[scene.weather]
        dim = 0.55 + 0.45 * w.light
        self.zenith = self._overcast(t.zenith, w.overcast) * dim
        self.horizon = self._overcast(t.horizon, w.overcast) * dim
        if scene.weather == "storm":
            # Storm light: a dark teal sky over a pale band where light leaks under the clouds.
            self.zenith = self.zenith + (_rgb((0.08, 0.12, 0.14)) - self.zenith) * 0.7
            self.horizon = self.horizon + (_rgb((0.85, 0.8, 0.6)) * t.brightness - self.horizon) * 0.4
        self.sun = _rgb(t.sun)
        self.ambient = _rgb(t.ambient) * (0.4 + 0.6 * w.light)
        self.sun_y = scene.horizon * (1.0 - scene.sun_height)
        self.image = np.empty((3, size, size), np.float32)

    @staticmethod
    def _overcast(colour, amount: float) -> np.ndarray:
        """Weather greys a sky colour towards its own luminance."""
        c = _rgb(colour)
        grey = float(np.dot(c.ravel(), (0.3, 0.59, 0.11)))
        return c + (grey - c) * amount


def _draw_sky(c: _Canvas) -> None:
    # Compressed towards the horizon like a real sky; (3, H, 1) broadcast over the width.
    t = np.clip(c.y / c.scene.horizon, 0.0, 1.0) ** 1.6
    c.image[:] = c.zenith + (c.horizon - c.zenith) * t


def _draw_stars(c: _Canvas) -> None:
    if c.scene.time != "night":
        return
    n = 120
    rows = (c.rng.random(n) ** 1.5 * c.horizon_row * 0.9).astype(int)
    cols = c.rng.integers(0, c.size, n)
    glow = c.rng.random(n, dtype=np.float32) ** 2 * 0.8 * (1.0 - c.scene.cloud_cover)
    c.image[:, rows, cols] = np.maximum(c.image[:, rows, cols], glow)


def _draw_sun(c: _Canvas) -> None:
    s, sky = c.scene, c.image[:, : c.horizon_row]
    d2 = (c.x - s.sun_x) ** 2 + (c.y[: c.horizon_row] - c.sun_y) ** 2
    night = s.time == "night"
    strength = (0.3 if night else 0.85) * (1.0 - 0.7 * s.cloud_cover)
    # Two Lorentzian halos (cheaper than exp): a bright core glow and a wide one.
    glow = strength * (0.7 / (1.0 + d2 / 0.002) + 0.35 / (1.0 + d2 / 0.03))
    sky += c.sun * glow
    radius = 0.035 if night else 0.045
    rows = slice(max(int((c.sun_y - radius) * c.size), 0), max(int((c.sun_y + radius) * c.size) + 2, 0))
    cols = slice(max(int((s.sun_x - radius) * c.size), 0), int((s.sun_x + radius) * c.size) + 2)
    disc = np.clip((radius - np.sqrt(d2[rows, cols])) * c.size, 0.0, 1.0) * (1.0 - 0.85 * s.cloud_cover)
    _paint(sky[:, rows, cols], c.sun, disc)  # only the disc's bounding box


def _draw_clouds(c: _Canvas) -> None:
    s, h = c.scene, c.horizon_row
    if s.cloud_cover <= 0.02:
        return
    noise = _noise2d(c.rng, h, c.size, 5, 3, octaves=4, perspective="sky")  # few columns: clouds stretch across
    density = np.clip((noise - (1.0 - s.cloud_cover)) * 3.0 + 0.25 * s.cloud_cover, 0.0, 1.0)
    # Tops catch the light and bellies are in shade: compare each pixel with the one above.
    k = max(1, round(3 * c.scale))
    above = np.concatenate([np.repeat(density[:1], k, axis=0), density[:-k]])
    shade = np.clip(0.65 + (density - above) * 2.0, 0.0, 1.0)
    night = 0.3 if s.time == "night" else 1.0
    if s.weather in ("storm", "rain"):  # heavy slate clouds with pale, cold edges
        lit = _rgb((0.55, 0.6, 0.62)) * night * WEATHERS[s.weather].light * 1.6
        dark = _rgb((0.05, 0.07, 0.09)) * (0.5 + 0.5 * night)
    else:
        lit = (_rgb((0.96, 0.96, 0.96)) + c.sun) * 0.5 * night
        dark = c.zenith * 0.75 + 0.06
    colour = dark + (lit - dark) * shade
    _paint(c.image[:, :h], colour, density * 0.92)


def _draw_ridges(c: _Canvas) -> None:
    """Mountain ridges, far to near; far ridges and valley floors fade into the horizon colour."""
    s, n = c.scene, c.size
    base = {"desert": (0.58, 0.38, 0.27), "snow": (0.44, 0.47, 0.55)}.get(s.ground, (0.30, 0.34, 0.38))
    rock = _rgb(base) * (0.85 + 0.3 * c.rng.random(3, dtype=np.float32)).reshape(3, 1, 1) * c.ambient
    for i in range(s.ridges):
        nearness = (i + 1) / s.ridges  # 1 for the front ridge
        height = s.ridge_height * s.horizon * (1.0 - 0.5 * i / 3)
        profile = s.horizon - height * (0.25 + 0.75 * _noise1d(c.rng, n, cells=int(c.rng.integers(2, 5))))
        top = int(profile.min() * n)
        y = c.y[top : c.horizon_row]
        cover = np.clip((y - profile) * n, 0.0, 1.0)  # anti-aliased edge
        depth = np.clip((y - profile) / height, 0.0, 1.0)
        colour = rock * (1.0 - 0.3 * depth)
        if i == 0 and s.ground != "desert" and s.ridge_height > 0.35:
            snowline = s.horizon - height * (0.6 + 0.2 * _noise1d(c.rng, n, cells=10, octaves=2))
            cap = np.clip((snowline - y) * n * 0.5, 0.0, 0.85)
            colour = colour + (_rgb((0.95, 0.96, 1.0)) * c.ambient - colour) * cap
        haze = np.clip(0.7 * (1.0 - nearness) + 0.12 + 0.4 * depth * depth, 0.0, 0.95)
        colour += (c.horizon - colour) * haze
        _paint(c.image[:, top : c.horizon_row], colour, cover)


def _draw_treeline(c: _Canvas) -> None:
    """A row of small conifers on the horizon, drawn as one skyline profile."""
    if not c.scene.treeline:
        return
    n, s = c.size, c.scene
    count = int(c.rng.integers(20, 70))
    centres = c.rng.uniform(0.0, 1.0, (count, 1)).astype(np.float32)
    tall = 2.0 if s.ground == "forest" else 1.0
    heights = c.rng.uniform(0.012, 0.045, (count, 1)).astype(np.float32) * tall
    cones = heights - np.abs(c.x - centres) * 3.5  # (count, W): one triangle per tree
    profile = s.horizon - np.clip(cones.max(axis=0), 0.0, None)
    top = int(profile.min() * n)
    cover = np.clip((c.y[top : c.horizon_row] - profile) * n, 0.0, 1.0)
    colour = _rgb((0.05, 0.13, 0.07)) * c.ambient
    _paint(c.image[:, top : c.horizon_row], colour + (c.horizon - colour) * 0.3, cover)


GROUND_COLOURS = {  # (near, far)
    "meadow": ((0.30, 0.56, 0.16), (0.45, 0.62, 0.24)),
    "forest": ((0.09, 0.24, 0.10), (0.15, 0.30, 0.14)),
    "snow": ((0.90, 0.93, 0.98), (0.76, 0.82, 0.92)),
    "desert": ((0.88, 0.64, 0.38), (0.78, 0.55, 0.34)),
}


TEXTURE_STRENGTH = {"meadow": 0.4, "forest": 0.4, "snow": 0.12, "desert": 0.2}  # snow is smooth


def _draw_land(c: _Canvas) -> None:
    """Meadow, forest floor, snowfield or desert: textured rows, rolling hills, haze near the horizon."""
    s, h, n = c.scene, c.horizon_row, c.size
    rows = n - h
    depth = _coords(rows)[0]  # 0 at the horizon, 1 at the bottom
    near, far = (_rgb(col) for col in GROUND_COLOURS[s.ground])
    base = (far + (near - far) * depth) * c.ambient  # (3, rows, 1)
    texture = _noise2d(c.rng, rows, n, 6, 4, octaves=4, perspective="ground")
    roughness = TEXTURE_STRENGTH[s.ground]
    shade = (1.0 - roughness * 0.6 + roughness * texture) * _hill_shading(c, rows)
    ground = base * shade
    haze = 0.65 * (1.0 - depth) ** 4
    c.image[:, h:] = ground + (c.horizon - ground) * haze


def _hill_shading(c: _Canvas, rows: int) -> np.ndarray:
    """Brightness of overlapping hills (or dunes): each front hill has a lit rim and a darker body."""
    s, n = c.scene, c.size
    ry = np.arange(rows, dtype=np.float32)[:, None]
    shading = np.ones((rows, n), np.float32)
    dunes = s.ground == "desert"
    for _ in range(int(c.rng.integers(1, 4))):
        crest = c.rng.uniform(0.15, 0.8) * rows
        swell = _noise1d(c.rng, n, cells=2, octaves=3, roughness=0.35, smooth=True)
        profile = crest - c.rng.uniform(0.1, 0.4) * rows * swell
        below = ry - profile
        inside = np.clip(below, 0.0, 1.0)
        rim = np.clip(1.0 - below / (6.0 if dunes else 4.0), 0.0, 1.0) * inside  # light along the crest
        tone = c.rng.uniform(0.7, 1.0)
        shading = shading + ((tone + (0.45 if dunes else 0.12) * rim) - shading) * inside
    return shading


def _draw_water(c: _Canvas) -> None:
    """Mirror everything above the horizon, displaced by ripples that grow towards the viewer."""
    s, h, n = c.scene, c.horizon_row, c.size
    rows = n - h
    depth = _coords(rows)[0]
    ripple = _noise2d(c.rng, rows, n, 24, 3, octaves=2) - 0.5  # thin horizontal wave bands
    amplitude = (1.0 + 8.0 * s.wind) * (0.15 + depth) * c.scale
    shift_x = np.round(ripple * amplitude * 2.0).astype(int)
    shift_y = np.round(ripple * amplitude * 0.8).astype(int)
    src_rows = np.clip(h - 1 - np.arange(rows)[:, None] + shift_y, 0, h - 1)
    src_cols = np.clip(np.arange(n)[None, :] + shift_x, 0, n - 1)
    # np.take on flat indices keeps the result C-contiguous (fancy indexing would not: slow later).
    reflection = np.take(c.image.reshape(3, -1), src_rows * n + src_cols, axis=1) * 0.88
    # Water reflects most at grazing angles (near the horizon) and shows its own colour up close.
    water = _rgb((0.04, 0.14, 0.2)) * c.ambient
    out = water + (reflection - water) * (0.85 - 0.4 * depth)
    # Sun glitter: bright wave crests in a column below the sun.
    crests = np.clip((ripple - 0.12) * 5.0, 0.0, 1.0)
    column = 1.0 / (1.0 + ((c.x - s.sun_x) / (0.03 + 0.12 * depth)) ** 2)
    glitter = crests * column * (1.0 - s.cloud_cover) * (0.4 if s.time == "night" else 0.8)
    c.image[:, h:] = out + c.sun * glitter


def _draw_trees(c: _Canvas) -> None:
    """A few foreground trees framing the view: tiered conifers or round deciduous trees."""
    s, n = c.scene, c.size
    for _ in range(s.trees):
        base = c.rng.uniform(s.horizon + 0.08, 1.05)
        height = (0.12 + 0.3 * (base - s.horizon) / (1.0 - s.horizon)) * c.rng.uniform(0.7, 1.2)  # nearer = bigger
        centre = c.rng.uniform(0.0, 0.3) if c.rng.random() < 0.5 else c.rng.uniform(0.7, 1.0)
        top, bottom = max(int((base - height) * n), 0), min(int(base * n), n)
        if bottom <= top:
            continue
        u = (c.y[top:bottom] - (base - height)) / height  # 0 at the tip, 1 at the base
        conifer = s.ground != "meadow" or c.rng.random() < 0.3
        if conifer:
            half = 0.28 * u * (0.55 + 0.45 * ((u * 3.0) % 1.0))  # three tiers of branches
            half = np.where(u > 0.9, 0.03, half)  # trunk
        else:
            half = np.sqrt(np.clip(1.0 - ((u - 0.38) / 0.38) ** 2, 0.0, 1.0)) * 0.3
            half = np.where(u > 0.7, 0.035, half)
        cover = np.clip(half * height * n - np.abs(c.x - centre) * n + 0.5, 0.0, 1.0)
        colour = _rgb((0.04, 0.12, 0.05) if conifer else (0.09, 0.2, 0.07)) * c.ambient
        _paint(c.image[:, top:bottom], colour, cover)


def _draw_fog(c: _Canvas) -> None:
    s = c.scene
    if s.fog <= 0.01:
        return
    # Thickest along the horizon, where a line of sight crosses the most mist.
    band = 1.0 / (1.0 + (np.abs(c.y - s.horizon) / 0.15) ** 2)
    amount = np.clip(s.fog * (0.4 + 0.6 * band), 0.0, 0.92)
    colour = c.horizon + (float(c.horizon.mean()) - c.horizon) * 0.5
    _paint(c.image, colour, amount)


def _draw_precipitation(c: _Canvas) -> None:
    s, n = c.scene, c.size
    if s.weather == "rain":
        drops = (c.rng.random((n, n), dtype=np.float32) < 0.01).astype(np.float32)
        streaks = drops.copy()
        slant = 0.2 + 0.6 * s.wind
        for k in range(1, round(7 * c.scale)):  # smear each drop into a slanted streak
            streaks += np.roll(drops, (k, int(round(k * slant))), axis=(0, 1))
        _paint(c.image, _rgb((0.75, 0.78, 0.82)), np.minimum(streaks, 1.0) * 0.3)
    elif s.weather == "snow":
        flakes = (c.rng.random((n, n), dtype=np.float32) < 0.008).astype(np.float32)
        big = (c.rng.random((n, n), dtype=np.float32) < 0.003).astype(np.float32)
        big = np.maximum.reduce([big, np.roll(big, 1, 0), np.roll(big, 1, 1), np.roll(big, (1, 1), (0, 1))])
        _paint(c.image, _rgb((0.95, 0.96, 1.0)), np.maximum(flakes, big) * 0.8)


def _draw_lightning(c: _Canvas) -> None:
    s, n = c.scene, c.size
    if not s.lightning:
        return
    end = max(c.horizon_row + int(c.rng.integers(-12, 2)), 4)
    cols = c.rng.uniform(0.2, 0.8) * n + np.cumsum(c.rng.normal(0.0, 1.6 * c.scale, end))  # a random walk down
    dist = np.abs(np.arange(n, dtype=np.float32) - cols[:, None].astype(np.float32))
    dist /= c.scale
    bolt = np.clip(np.clip(1.2 - dist, 0.0, 1.0) + 0.4 / (1.0 + dist * dist), 0.0, 1.0)
    colour = _rgb((0.85, 0.88, 1.0))
    _paint(c.image[:, :end], colour, bolt)
    # The flash lights the clouds around it.
    c.image[:, : c.horizon_row] += colour * (0.15 / (1.0 + ((c.x - cols.mean() / n) / 0.2) ** 2))


@lru_cache(maxsize=None)
def _vignette(size: int) -> np.ndarray:
    """Corner darkening, times 255 so grading goes straight to 8-bit."""
    y, x = _coords(size)
    v = 255.0 * (1.0 - 0.3 * ((x - 0.5) ** 2 + (y - 0.5) ** 2))
    v.flags.writeable = False
    return v


def _grade(c: _Canvas) -> np.ndarray:
    """Saturation and contrast from the scene and a soft vignette, to uint8 (H, W, 3)."""
    s, img = c.scene, c.image
    luma = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    sat, contrast, mean = s.grading_saturation, s.contrast, float(luma.mean())
    # out = mean + contrast * (luma + sat * (img - luma) - mean), folded into img * k + offset
    offset = contrast * (1.0 - sat) * luma + mean * (1.0 - contrast)
    vignette = _vignette(c.size)
    out = np.empty((c.size, c.size, 3), np.uint8)
    for ch in range(3):
        out[..., ch] = np.clip((img[ch] * (sat * contrast) + offset) * vignette + 0.5, 0.0, 255.0)
    return out


def render_scene(scene: Scene, rng: np.random.Generator, size: int = RENDER_SIZE) -> np.ndarray:
    """Draw ``scene`` as a uint8 (size, size, 3) image; random detail (noise, trees) comes from ``rng``."""
    render = max(size, RENDER_SIZE)
    c = _Canvas(scene, rng, render)
    _draw_sky(c)
    _draw_stars(c)
    _draw_sun(c)
    _draw_clouds(c)
    _draw_ridges(c)
    _draw_treeline(c)
    if scene.ground == "water":
        _draw_water(c)
    else:
        _draw_land(c)
    _draw_trees(c)
    _draw_fog(c)
    _draw_lightning(c)
    _draw_precipitation(c)
    image = _grade(c)
    if render != size:
        image = np.asarray(Image.fromarray(image).resize((size, size), Image.LANCZOS))
    return image


def landscape_va(seed: int, image_id: int) -> tuple[float, float]:
    """The rated (valence, arousal) of image ``image_id`` without rendering it."""
    rng = np.random.default_rng([seed, image_id])
    return _rated_va(sample_scene(rng), rng)


def render_landscape(seed: int, image_id: int, size: int = RENDER_SIZE) -> tuple[np.ndarray, float, float]:
    """Image ``image_id`` of dataset ``seed``: (uint8 size x size x 3 image, valence 1-9, arousal 1-9)."""
    rng = np.random.default_rng([seed, image_id])
    scene = sample_scene(rng)
    valence, arousal = _rated_va(scene, rng)  # drawn before rendering: labels never depend on drawing code
    return render_scene(scene, rng, size), valence, arousal


# --------------------------------------------------------------------------- files


# Bumped whenever the same seed and id would give other images or labels; written to
# ``version.txt`` beside labels.csv so that an old copy of the default dataset is re-rendered.
# 2: ratings are squashed softly into (1, 9) instead of clipped.
DATASET_VERSION = 2


def dataset_version(folder) -> int:
    """The DATASET_VERSION a folder was written with (1 for folders from before versions were written)."""
    path = Path(folder) / "version.txt"
    return int(path.read_text().strip()) if path.is_file() else 1


def write_dataset(out_dir, n: int = 2000, size: int = RENDER_SIZE, seed: int = 0, progress: bool = True) -> Path:
    """Write ``images/<id>.jpg`` (ids 1..n) and ``labels.csv`` (image,valence,arousal) to ``out_dir``.

    Same arguments give byte-identical files. labels.csv is written last (temp file, then
    ``os.replace``), so an interrupted run never leaves labels that point at missing images.
    """
    out_dir = Path(out_dir)
    images = out_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    labels = out_dir / "labels.csv"
    labels.unlink(missing_ok=True)  # an old labels.csv must not describe half-rewritten images
    rows = []
    for image_id in tqdm(range(1, n + 1), desc="rendering landscapes", disable=not progress):
        image, valence, arousal = render_landscape(seed, image_id, size)
        Image.fromarray(image).save(images / f"{image_id}.jpg", "JPEG", quality=95)
        rows.append((image_id, f"{valence:.2f}", f"{arousal:.2f}"))
    tmp = out_dir / "labels.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("image", "valence", "arousal"))
        writer.writerows(rows)
    os.replace(tmp, labels)
    (out_dir / "version.txt").write_text(f"{DATASET_VERSION}\n")
    return out_dir


def _read_labels(path: Path) -> tuple[list[str], np.ndarray]:
    """Image ids and an (n, 2) array of (valence, arousal) from a labels.csv, checked row by row."""
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: write the dataset first with write_dataset({path.parent}).")
    ids, va = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["image", "valence", "arousal"]:
            raise ValueError(f"{path}: header is {reader.fieldnames}, expected image,valence,arousal.")
        for line, row in enumerate(reader, start=2):
            try:
                ids.append(str(int(row["image"])))
                va.append((float(row["valence"]), float(row["arousal"])))
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: {row} is not an integer id and two ratings; fix or delete the row.") from None
    return ids, np.array(va, dtype=float).reshape(-1, 2)


CONTACT_MARGIN = 16  # pixels left of and below the grid, for the axis labels


def _centred_text(draw: ImageDraw.ImageDraw, centre: tuple[int, int], text: str) -> None:
    font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((centre[0] - (right - left) // 2 - left, centre[1] - (bottom - top) // 2 - top), text, fill=(0, 0, 0), font=font)


def contact_sheet(dataset_dir, out_png, cells: int = 9, cell_size: int = 64) -> Path:
    """A PNG of the dataset laid out on the VA plane: valence 1 -> 9 across, arousal 9 -> 1 down.

    Each of the cells x cells squares shows the image whose (V, A) is nearest the square's
    centre, or stays grey when none is within 1 rating unit. The PNG is
    (cells * cell_size + CONTACT_MARGIN) pixels on each side.
    """
    dataset_dir = Path(dataset_dir)
    ids, va = _read_labels(dataset_dir / "labels.csv")
    grid = cells * cell_size
    sheet = Image.new("RGB", (grid + CONTACT_MARGIN, grid + CONTACT_MARGIN), (255, 255, 255))
    centres = 1.0 + (np.arange(cells) + 0.5) * 8.0 / cells
    for col, valence in enumerate(centres):
        for row, arousal in enumerate(centres[::-1]):  # high arousal at the top
            box = (CONTACT_MARGIN + col * cell_size, row * cell_size)
            dist = np.hypot(va[:, 0] - valence, va[:, 1] - arousal)
            if len(dist) == 0 or dist.min() > 1.0:
                sheet.paste((128, 128, 128), box + (box[0] + cell_size, box[1] + cell_size))
                continue
            with Image.open(dataset_dir / "images" / f"{ids[int(dist.argmin())]}.jpg") as im:
                sheet.paste(im.convert("RGB").resize((cell_size, cell_size), Image.LANCZOS), box)

    _centred_text(ImageDraw.Draw(sheet), (CONTACT_MARGIN + grid // 2, grid + CONTACT_MARGIN // 2), "valence 1 -> 9")
    label = Image.new("RGB", (grid, CONTACT_MARGIN), (255, 255, 255))
    _centred_text(ImageDraw.Draw(label), (grid // 2, CONTACT_MARGIN // 2), "arousal 9 -> 1")
    sheet.paste(label.rotate(-90, expand=True), (0, 0))  # reads top (9) to bottom (1)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_png)
    return out_png
