"""JupyterLab on localhost and headless Chromium, as context managers (used by
tests/test_browser.py and benchmarks/slider_latency.py)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class BrowserUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout, message):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(message)


@contextlib.contextmanager
def jupyter_lab(preset: str = "ci"):
    """Yields (base url, token) of a JupyterLab serving the repository root."""
    port, token = _free_port(), "va-browser-test"
    with tempfile.TemporaryDirectory() as config_dir:
        settings = Path(config_dir) / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        # no "Would you like to get notified about Jupyter news?" toast over the page
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        env = {**os.environ, "VA_PRESET": preset, "JUPYTER_CONFIG_DIR": config_dir,
               "JUPYTERLAB_SETTINGS_DIR": str(Path(config_dir) / "lab-settings")}
        log_path = Path(config_dir) / "lab.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                 f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={ROOT}",
                 "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                def ready():
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        return True
                    except OSError:
                        return False
                try:
                    wait_for(ready, 90, "JupyterLab did not start")
                except TimeoutError:
                    raise RuntimeError(f"JupyterLab did not start on port {port}:\n{log_path.read_text()[-2000:]}")
                yield f"http://127.0.0.1:{port}", token
            finally:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()


@contextlib.contextmanager
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (binary and driver_path):
        raise BrowserUnavailable("needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    with tempfile.TemporaryDirectory() as profile:
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-quic", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def open_notebook(browser, url, token, notebook: str):
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/lab/tree/{notebook}?token={token}&reset")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 120, f"{notebook} did not open")
    time.sleep(1)
    for button in browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):  # e.g. "Select Kernel"
        button.click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
             or "Idle" in browser.page_source, 90, "the kernel did not start")
    time.sleep(2)


def run_all_cells(browser):
    from selenium.webdriver.common.by import By

    menu = wait_for(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel") if e.text == "Run"],
                    30, "no Run menu")
    menu[0].click()
    entry = wait_for(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel") if e.text == "Run All Cells"],
                     10, "no 'Run All Cells' entry")
    entry[0].click()


def wait_until_all_cells_ran(browser, timeout):
    """Waits until no cell is queued or running ("[*]") and the kernel is idle. A widget's Python
    callback runs only when the kernel is free, so a slider moved before then answers late."""
    from selenium.webdriver.common.by import By

    def finished():
        prompts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".jp-InputPrompt")]
        idle = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
        return idle and prompts and not any("*" in prompt for prompt in prompts)

    def finished_and_stays_so():  # the kernel is briefly idle between two queued cells
        if not finished():
            return False
        time.sleep(2)
        return finished()

    wait_for(finished_and_stays_so, timeout, "the notebook never finished running")
