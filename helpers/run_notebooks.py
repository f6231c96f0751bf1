"""Execute the notebook series in order (what ``make demo`` runs).

    python -m helpers.run_notebooks notebooks [--out notebooks/outputs]

Each executed copy, with its figures, is written to the output folder; the sources stay clean.
The preset comes from ``VA_PRESET`` (``quick`` by default on a CPU).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor


def run(folder: Path, out: Path, timeout: int) -> int:
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        print(f"no numbered notebooks in {folder}", file=sys.stderr)
        return 1
    seconds = {}
    for path in notebooks:
        started = time.time()
        print(f"running {path.name} ...", flush=True)
        notebook = nbformat.read(path, as_version=4)
        executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
        try:
            executor.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
        except CellExecutionError as error:
            nbformat.write(notebook, out / path.name)
            print(f"{path.name} failed; the partly executed copy is {out / path.name}\n{error}", file=sys.stderr)
            return 1
        nbformat.write(notebook, out / path.name)
        seconds[path.name] = round(time.time() - started, 1)
        print(f"  done in {seconds[path.name]:.0f} s -> {out / path.name}", flush=True)
        (out / "timings.json").write_text(json.dumps(seconds, indent=2) + "\n")  # seconds per notebook, this run
    _print_metrics()
    return 0


def _print_metrics() -> None:
    """End of the demo: the demo model's metric table (notebook 04 writes metrics.json)."""
    from helpers.metrics import format_metrics_table
    from helpers.notebook import WEIGHTS_ROOT, default_preset

    path = WEIGHTS_ROOT / default_preset() / "metrics.json"
    if path.is_file():
        print(f"\nmetrics of the demo model ({path}):")
        print(format_metrics_table(json.loads(path.read_text())))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="notebooks")
    parser.add_argument("--out", default=None, help="default: <folder>/outputs")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    return run(folder, Path(args.out) if args.out else folder / "outputs", args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
