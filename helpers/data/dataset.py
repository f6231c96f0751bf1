"""A VA-labelled image set: find the files, join them to their labels, decode once, cache.

``load_dataset`` accepts the three forms the original project used (see ``labels.py``),
decodes every usable image once to a square uint8 array of the training size and keeps the
result in one ``.npz`` file beside the data, rebuilt when any source file changes. An epoch
then indexes a uint8 array in memory; it never decodes a JPEG.
"""

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from helpers.config import DataConfig
from helpers.data.decode import IMAGE_EXTENSIONS, ImageProblem, decode_image
from helpers.data.labels import LabelError, Skipped, image_key, read_label_files, read_labels_csv

CACHE_FORMAT = 1  # bump when decoding changes, so old caches are rebuilt


class DataError(LabelError):
    """No usable data: the message says what was looked at and what to do."""


@dataclass
class DataReport:
    """What loading found: the usable count, every skipped item with its reason, VA ranges."""

    source: str
    usable: int
    skipped: list = field(default_factory=list)  # [Skipped]
    labels_without_image: int = 0  # label rows whose image is not in the folder (a subset folder)
    valence_range: tuple = (float("nan"), float("nan"))
    arousal_range: tuple = (float("nan"), float("nan"))

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "usable": self.usable,
            "skipped": [{"item": s.item, "reason": s.reason} for s in self.skipped],
            "labels_without_image": self.labels_without_image,
            "valence_range": list(self.valence_range),
            "arousal_range": list(self.arousal_range),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "DataReport":
        return cls(
            source=data["source"],
            usable=data["usable"],
            skipped=[Skipped(s["item"], s["reason"]) for s in data["skipped"]],
            labels_without_image=data["labels_without_image"],
            valence_range=tuple(data["valence_range"]),
            arousal_range=tuple(data["arousal_range"]),
        )

    def __str__(self) -> str:
        lines = [
            f"Data report for {self.source}",
            f"  usable images        {self.usable}",
            f"  skipped              {len(self.skipped)}",
            f"  labels with no image {self.labels_without_image} (normal for a subset folder)",
            f"  valence range        {self.valence_range[0]:.2f} - {self.valence_range[1]:.2f} (1-9 scale)",
            f"  arousal range        {self.arousal_range[0]:.2f} - {self.arousal_range[1]:.2f} (1-9 scale)",
        ]
        shown = self.skipped[:20]
        for item in shown:
            lines.append(f"    skipped {item.item}: {item.reason}")
        if len(self.skipped) > len(shown):
            lines.append(f"    ... and {len(self.skipped) - len(shown)} more (see report.skipped)")
        return "\n".join(lines)


@dataclass
class LabelledImages:
    """Images as one uint8 array (N, S, S, 3) with their valence and arousal on 1-9."""

    images: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    names: list
    report: DataReport

    def __len__(self) -> int:
        return len(self.names)

    @property
    def size(self) -> int:
        return self.images.shape[1]

    def subset(self, indices) -> "LabelledImages":
        indices = np.asarray(indices, dtype=np.int64)
        return LabelledImages(
            self.images[indices], self.valence[indices], self.arousal[indices],
            [self.names[i] for i in indices], self.report,
        )

    def split(self, config: DataConfig = DataConfig()) -> "Split":
        """(train, val, test) by a permutation seeded with ``config.split_seed``: the same seed
        and fractions give the same split. A non-zero fraction gets at least one image."""
        order = np.random.default_rng(config.split_seed).permutation(len(self))
        n_test, n_val = (max(1, round(len(self) * f)) if f > 0 else 0 for f in (config.test_fraction, config.val_fraction))
        if n_test + n_val >= len(self):
            raise DataError(f"{len(self)} images cannot be split into train, {n_val} validation and {n_test} test images; "
                            "use more images or smaller val_fraction/test_fraction.")
        test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
        return Split(*(self.subset(np.sort(part)) for part in (train, val, test)))

    def named(self, names) -> "LabelledImages":
        """The images with these file names (in this order), e.g. one part of a saved split."""
        index = {name: i for i, name in enumerate(self.names)}
        missing = [name for name in names if name not in index]
        if missing:
            raise DataError(f"{len(missing)} of the {len(names)} named images are not in {self.report.source} "
                            f"(first: {missing[0]}); pass the data the model was trained on.")
        return self.subset([index[name] for name in names])

    def items(self) -> list:
        return [
            {"image": name, "valence": round(float(v), 4), "arousal": round(float(a), 4)}
            for name, v, a in zip(self.names, self.valence, self.arousal)
        ]


class Split(NamedTuple):
    """Train on ``train``, choose checkpoints by ``val``, report on ``test`` (never trained or chosen on)."""

    train: LabelledImages
    val: LabelledImages
    test: LabelledImages


def find_images(folder, extensions=IMAGE_EXTENSIONS) -> dict:
    """{key: path} for every image file directly in ``folder``; two files with one key are an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}. Pass the folder of <id>.jpg files with --images.")
    extensions = tuple(e.lower() for e in extensions)
    found, clashes = {}, []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in extensions:
            key = image_key(path.name)
            if key in found:
                clashes.append((found[key].name, path.name))
            found[key] = path
    if clashes:
        a, b = clashes[0]
        raise DataError(f"{folder}: {a} and {b} would share one label (id {image_key(a)}); keep one of them.")
    if not found:
        raise DataError(f"no images ({', '.join(extensions)}) in {folder}; check --images and --extensions.")
    return found


def _file_fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"


def _cache_key(paths: dict, label_files: list, size: int, options: dict) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": CACHE_FORMAT, "size": size, "options": options}, sort_keys=True).encode())
    for key in sorted(paths):
        digest.update(_file_fingerprint(paths[key]).encode())
    for label_file in label_files:
        digest.update(Path(label_file).read_bytes())
    return digest.hexdigest()[:16]


def cache_path(images_dir, size: int) -> Path:
    """``<parent>/.va_cache/<folder>-<size>.npz`` beside the data (one cache per folder and size)."""
    images_dir = Path(images_dir).resolve()
    return images_dir.parent / ".va_cache" / f"{images_dir.name}-{size}.npz"


def _read_cache(path: Path, key: str):
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) != key:
                return None
            report = DataReport.from_dict(json.loads(str(stored["report"])))
            return LabelledImages(
                stored["images"], stored["valence"], stored["arousal"], list(stored["names"]), report
            )
    except (OSError, KeyError, ValueError):
        return None  # missing, from an older format, or damaged: rebuild


def _write_cache(path: Path, key: str, data: LabelledImages) -> None:
    """Write to a temporary file, then rename: a cache is never half-written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(
            temporary, key=key, images=data.images, valence=data.valence, arousal=data.arousal,
            names=np.array(data.names), report=json.dumps(data.report.to_dict()),
        )
        os.replace(temporary, path)
    except OSError as error:  # a read-only data folder still loads, just without a cache
        print(f"note: could not write the image cache {path} ({error}); images will be decoded again next time")


def load_dataset(
    images,
    labels=None,
    valence_file=None,
    arousal_file=None,
    size: int = 64,
    id_column: str = "image",
    valence_column: str = "valence",
    arousal_column: str = "arousal",
    extensions=IMAGE_EXTENSIONS,
    use_cache: bool = True,
    progress: bool = True,
) -> LabelledImages:
    """Load a VA-labelled image folder, from the cache when the sources are unchanged.

    Give either ``labels`` (a CSV) or both ``valence_file`` and ``arousal_file`` (raw form).
    Raises ``DataError``/``LabelError`` when nothing usable remains or a source is unusable.
    """
    images_dir = Path(images)
    if (labels is None) == (valence_file is None and arousal_file is None):
        raise DataError("give either a label CSV (--labels) or both --valence-file and --arousal-file")
    if labels is None and (valence_file is None or arousal_file is None):
        raise DataError("the raw form needs both --valence-file and --arousal-file")
    paths = find_images(images_dir, extensions)
    label_files = [labels] if labels is not None else [valence_file, arousal_file]
    for label_file in label_files:
        if not Path(label_file).is_file():
            raise DataError(f"label file not found: {label_file}")
    options = {"columns": [id_column, valence_column, arousal_column], "raw": labels is None}
    key = _cache_key(paths, label_files, size, options)
    cache_file = cache_path(images_dir, size)
    if use_cache:
        cached = _read_cache(cache_file, key)
        if cached is not None:
            return cached

    if labels is not None:
        label_map, skipped = read_labels_csv(labels, id_column, valence_column, arousal_column)
    else:
        label_map, skipped, _ = read_label_files(valence_file, arousal_file)

    arrays, valence, arousal, names = [], [], [], []
    for key_name, path in tqdm(sorted(paths.items(), key=lambda kv: _natural(kv[0])), desc=f"decoding {images_dir.name} at {size}px", disable=not progress, leave=False):
        if key_name not in label_map:
            skipped.append(Skipped(path.name, "no label for this image; add a row for it or move it out of the folder"))
            continue
        try:
            arrays.append(decode_image(path, size))
        except ImageProblem as problem:
            skipped.append(Skipped(path.name, str(problem)))
            continue
        names.append(path.name)
        valence.append(label_map[key_name][0])
        arousal.append(label_map[key_name][1])

    source = f"{images_dir} with {', '.join(str(f) for f in label_files)}"
    if not names:
        reasons = "; ".join(f"{s.item}: {s.reason}" for s in skipped[:3])
        raise DataError(f"no usable images in {images_dir} ({len(paths)} files, {len(label_map)} labels). First problems: {reasons or 'image ids match no label id'}")
    valence = np.array(valence, dtype=np.float32)
    arousal = np.array(arousal, dtype=np.float32)
    report = DataReport(
        source=source, usable=len(names), skipped=skipped,
        labels_without_image=sum(1 for k in label_map if k not in paths),
        valence_range=(float(valence.min()), float(valence.max())),
        arousal_range=(float(arousal.min()), float(arousal.max())),
    )
    data = LabelledImages(np.stack(arrays), valence, arousal, names, report)
    if use_cache:
        _write_cache(cache_file, key, data)
    return data


def _natural(key: str):
    """Sort ids numerically (2 before 10), other names after them alphabetically."""
    return (0, int(key), "") if key.isdigit() else (1, 0, key)
