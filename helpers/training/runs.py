"""Run folders, after NVlabs/edm: every run gets ``<root>/NNNNN-<name>/`` holding its resolved
configs (``config.json``), ``log.txt``, ``stats.jsonl`` (one JSON object per line), the file
names of its train/validation/test split (``split.json``) and its pictures. The seed is always
recorded.
"""

import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from helpers.config import to_dict


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for but torch sees no GPU; use --device cpu (or auto).")
    return torch.device(preference)


def new_run_dir(root, name: str) -> Path:
    """``root/00000-name``, numbered one past the highest existing run."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
    run_dir = root / f"{max(numbers, default=-1) + 1:05d}-{name}"
    run_dir.mkdir()
    return run_dir


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


CONFIG_FILE = "config.json"


class RunLog:
    """Appends to ``stats.jsonl`` and ``log.txt`` in a run folder."""

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)

    def write_config(self, configs: dict) -> None:
        (self.run_dir / CONFIG_FILE).write_text(json.dumps(configs, indent=2, default=str) + "\n")

    def stats(self, record: dict) -> dict:
        record = {key: _plain(value) for key, value in record.items()}
        with open(self.run_dir / "stats.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return record

    def log(self, message: str) -> None:
        with open(self.run_dir / "log.txt", "a") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


SPLIT_FILE = "split.json"


def read_config(run_dir) -> dict:
    """The run's ``config.json``, as ``RunLog.write_config`` wrote it."""
    return json.loads((Path(run_dir) / CONFIG_FILE).read_text())


def save_split(run_dir, train, val, test, data_config) -> Path:
    """Write ``split.json``: the data config and the file names of each part, so that
    ``evaluate`` reports on the very test images this run never saw (``test`` may be None)."""
    path = Path(run_dir) / SPLIT_FILE
    path.write_text(json.dumps({
        "data": to_dict(data_config) if data_config else None,
        "train": list(train.names), "val": list(val.names), "test": list(test.names) if test is not None else None,
    }, indent=1) + "\n")
    return path


def load_split(run_dir) -> dict | None:
    """``split.json`` of a run folder as {"data", "train", "val", "test"}, or None if it has none."""
    path = Path(run_dir) / SPLIT_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def read_stats(run_dir) -> list:
    path = Path(run_dir) / "stats.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_stats(run_dir, keep) -> None:
    """Drop the records written after the state we resume from (``keep(record) -> bool``)."""
    records = [r for r in read_stats(run_dir) if keep(r)]
    path = Path(run_dir) / "stats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
