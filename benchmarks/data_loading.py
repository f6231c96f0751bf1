"""Loading an 865-image set (the size of the original's landscape subset) from its cache.

Target: under one second. Also times the first, decoding load and the procedural rendering.

    python benchmarks/data_loading.py
"""

import json
import tempfile
import time
from pathlib import Path

from helpers.data import load_dataset
from helpers.data.synth import write_dataset


def main():
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        started = time.perf_counter()
        write_dataset(folder, n=865, size=128, seed=0, progress=False)
        rendered = time.perf_counter() - started
        result = {"benchmark": "data_loading", "images": 865,
                  "render_images_per_second": round(865 / rendered, 1)}
        for size in (64, 128):
            started = time.perf_counter()
            load_dataset(folder / "images", labels=folder / "labels.csv", size=size, progress=False)
            first = time.perf_counter() - started
            started = time.perf_counter()
            load_dataset(folder / "images", labels=folder / "labels.csv", size=size, progress=False)
            result[f"first_load_{size}_seconds"] = round(first, 2)
            result[f"cached_load_{size}_seconds"] = round(time.perf_counter() - started, 3)
        result["cached_target_seconds"] = 1.0
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
