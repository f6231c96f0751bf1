"""Slider speed: one 64x64 image from the generator, and a whole slider update on the page.

1. ``generator``: one image, batch 1, inference mode, on the CPU (target <= 10 ms).
2. ``callback``: the explorer's Python callback (render + PNG + widget value) for 4 images.
3. ``page``: in headless Chromium on a JupyterLab page, from one small mouse-drag step of the slider to the new
   image on the page (a MutationObserver on the <img>), median of 20 moves (target <= 100 ms).
   Needs chromium + chromium-driver (skipped with a message otherwise).
4. ``--layouts``: 1 and 2 for the generator with NCHW and with channels-last weights (load_generator's), alternating
   round by round in one process, medians of the rounds: a host's drift between runs is larger than the difference.
5. ``--film``: the same for the ERUs' modulations computed unit by unit and in one fused pass (``Generator.fuse_film``).

    python benchmarks/slider_latency.py [--weights FILE] [--layouts] [--film] [--json out.json]
"""

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from machine import machine_facts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def generator_for(weights):
    from helpers.config import model_config_for_size
    from helpers.models.checkpoint import load_generator
    from helpers.models.generator import Generator

    return load_generator(weights) if weights else Generator(model_config_for_size(64)).eval()


def time_generator(generator, repeats=200):
    from helpers.generate import latents_for_seeds
    from helpers.va import va_unit_tensor

    z = latents_for_seeds([0], generator.config.input_dim)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 10):
            va = va_unit_tensor(1 + (i % 80) / 10, 5.0, 1)
            started = time.perf_counter()
            generator(z, va)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[10:])


def time_callback(generator, repeats=50):
    from helpers.widgets import VAExplorer

    explorer = VAExplorer(generator, count=4)
    times = []
    for i in range(repeats):
        explorer.valence.value = 1 + (i % 80) / 10
        times.append(explorer.last_milliseconds)
    return statistics.median(times)


def compare(models: dict, rounds: int = 8) -> dict:
    """Medians over ``rounds`` of each model's one-image and callback times, the models alternating."""
    times = {name: {"generator_one_image_ms": [], "callback_four_images_ms": []} for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            times[name]["generator_one_image_ms"].append(time_generator(model, repeats=50))
            times[name]["callback_four_images_ms"].append(time_callback(model, repeats=20))
    return {name: {key: round(statistics.median(values), 2) for key, values in measured.items()}
            for name, measured in times.items()} | {"rounds": rounds}


def compare_layouts(generator, rounds: int = 8) -> dict:
    """NCHW against channels-last weights (copies of ``generator``)."""
    layouts = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    return compare({name: copy.deepcopy(generator).to(memory_format=layout) for name, layout in layouts.items()}, rounds)


def compare_film(generator, rounds: int = 8) -> dict:
    """The ERUs' modulations unit by unit against one fused pass (copies of ``generator``)."""
    models = {name: copy.deepcopy(generator) for name in ("per_unit", "fused")}
    models["per_unit"].fuse_film = False
    return compare(models, rounds)


def time_page(weights, count: int = 4, moves: int = 20):
    import nbformat
    from selenium.webdriver.common.by import By

    from browser_harness import chromium, jupyter_lab, open_notebook, run_all_cells, wait_for

    source = ("from helpers.config import model_config_for_size\n"
              "from helpers.models.checkpoint import load_generator\n"
              "from helpers.models.generator import Generator\n"
              "from helpers.widgets import VAExplorer\n"
              f"weights = {str(Path(weights).resolve()) if weights else None!r}\n"
              "generator = load_generator(weights) if weights else Generator(model_config_for_size(64)).eval()\n"
              f"VAExplorer(generator, count={count}).widget")
    with tempfile.TemporaryDirectory(dir=ROOT) as temporary:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.cells = [nbformat.v4.new_code_cell(source)]
        path = Path(temporary) / "slider_bench.ipynb"
        nbformat.write(notebook, path)
        with chromium() as browser, jupyter_lab() as (url, token):
            open_notebook(browser, url, token, str(path.relative_to(ROOT)))
            run_all_cells(browser)
            try:
                image = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "img.va-explorer-image"), 120, "no image")[0]
            except TimeoutError:
                browser.save_screenshot("/tmp/slider_bench_failure.png")
                raise
            wait_for(lambda: image.get_attribute("src"), 30, "no image source")
            from selenium.webdriver.common.action_chains import ActionChains

            handle = browser.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")[0]
            handle.click()
            time.sleep(1)
            times = []
            drag = ActionChains(browser, duration=0)
            drag.click_and_hold(handle).perform()  # a person dragging: one small mouse move per update
            for _ in range(moves):
                browser.execute_script("""
                    const img = arguments[0]; window.__done = null;
                    new MutationObserver((m, o) => { window.__done = performance.now(); o.disconnect(); })
                        .observe(img, {attributes: true, attributeFilter: ['src']});
                    window.__start = performance.now();""", image)
                ActionChains(browser, duration=0).move_by_offset(6, 0).perform()
                wait_for(lambda: browser.execute_script("return window.__done"), 10, "the image did not update")
                times.append(browser.execute_script("return window.__done - window.__start"))
                time.sleep(0.1)
            ActionChains(browser, duration=0).release().perform()
            return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default=None, help="a generator checkpoint (default: an untrained 64 px generator)")
    parser.add_argument("--no-page", action="store_true")
    parser.add_argument("--count", type=int, default=4, help="images in the explorer (1-8)")
    parser.add_argument("--layouts", action="store_true", help="also time NCHW against channels-last weights")
    parser.add_argument("--film", action="store_true", help="also time the ERUs' modulations unit by unit against fused")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    generator = generator_for(args.weights)
    result = {"benchmark": "slider_latency", "machine": machine_facts(), "weights": args.weights,
              "cpu_threads": torch.get_num_threads(),
              "generator_one_image_ms": round(time_generator(generator), 2), "generator_target_ms": 10,
              "callback_four_images_ms": round(time_callback(generator), 1)}
    if args.layouts:
        result["layouts"] = compare_layouts(generator)
    if args.film:
        result["film"] = compare_film(generator)
    if not args.no_page:
        try:
            result["page_update_ms"] = round(time_page(args.weights, args.count), 1)
            result["page_images"] = args.count
            result["page_target_ms"] = 100
        except Exception as error:  # no browser here: say so rather than invent a number
            result["page_update_ms"] = None
            result["page_error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
