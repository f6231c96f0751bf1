"""The real-browser test: JupyterLab on localhost, headless Chromium opens notebook 04, runs
it, moves the valence slider and checks on the page that the image changed.

Needs Debian's chromium and chromium-driver (scripts/test.sh installs them); a screenshot is
saved to tests/artifacts/browser_sliders.png.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOK = "notebooks/04_eru_va_diagnostics.ipynb"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    port, token = _free_port(), "va-browser-test"
    env = {**os.environ, "VA_PRESET": "ci", "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("jupyter-config"))}
    log = open(tmp_path_factory.mktemp("jupyter-log") / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", "--ServerApp.disable_check_xsrf=True", "--allow-root",
         f"--ServerApp.root_dir={ROOT}", "--LabApp.news_url=", "--LabServerApp.extensions_in_dev_mode=False"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"JupyterLab did not start on port {port}; see {log.name}")
    yield f"http://127.0.0.1:{port}", token
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _wait(condition, timeout, message):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(message)


def test_sliders_change_the_image_in_a_real_browser(jupyter_lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, token = jupyter_lab
    browser.get(f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset")
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 90, "notebook 04 did not open")
    _wait(lambda: "Idle" in browser.page_source or browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator"),
          60, "the kernel did not start")
    time.sleep(3)
    run_menu = _wait(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel") if e.text == "Run"],
                     30, "no Run menu")
    run_menu[0].click()
    run_all = _wait(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel") if e.text == "Run All Cells"],
                    10, "no 'Run All Cells' entry")
    run_all[0].click()
    image = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "img.va-explorer-image"), 400,
                  "the VA explorer's image never appeared (did the notebook fail?)")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
    before = image.get_attribute("src")
    assert before and before.startswith("blob:") or before.startswith("data:")
    handle = browser.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")[0]  # the first slider: valence
    handle.click()
    for _ in range(25):  # 25 steps of 0.1 to the right
        handle.send_keys(Keys.ARROW_RIGHT)
    label = _wait(lambda: [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".widget-label") if "valence 7.5" in e.text],
                  30, "the status line never showed valence 7.5")
    after = _wait(lambda: (src := image.get_attribute("src")) != before and src, 30, "the image did not change")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser_sliders.png"))
    assert after != before and label
    errors = browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [e.text for e in errors if "Traceback" in e.text or "Error" in e.text.split("\n")[0]]
    assert not tracebacks, tracebacks[:1]
