"""The real-browser test: JupyterLab on localhost, headless Chromium opens notebook 04, runs
it, moves the valence slider and checks on the page that the image changed. A screenshot is
saved to tests/artifacts/browser_sliders.png. Needs Debian's chromium and chromium-driver
(scripts/test.sh installs them)."""

import pytest

from browser_harness import (ROOT, BrowserUnavailable, chromium, jupyter_lab, open_notebook, run_all_cells, wait_for,
                             wait_until_all_cells_ran)

NOTEBOOK = "notebooks/04_eru_va_diagnostics.ipynb"


def test_sliders_change_the_image_in_a_real_browser():
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    try:
        browser_context = chromium()
        browser = browser_context.__enter__()
    except BrowserUnavailable as missing:
        pytest.fail(str(missing))
    try:
        with jupyter_lab("ci") as (url, token):
            open_notebook(browser, url, token, NOTEBOOK)
            run_all_cells(browser)
            image = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "img.va-explorer-image"), 600,
                             "the VA explorer's image never appeared (did an earlier cell fail?)")[0]
            wait_for(lambda: image.get_attribute("src"), 30, "the image has no source")
            # the later cells (the evaluation among them) keep the kernel busy for minutes on a slow CPU, and the
            # slider's callback waits for them: move it once the notebook has run, as a reader would
            wait_until_all_cells_ran(browser, 900)
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
            before = image.get_attribute("src")
            handle = browser.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")[0]  # valence
            handle.click()
            for _ in range(25):  # 25 steps of 0.1 to the right: 5.0 -> 7.5
                handle.send_keys(Keys.ARROW_RIGHT)
            wait_for(lambda: any("valence 7.5" in e.text for e in browser.find_elements(By.CSS_SELECTOR, ".widget-label")),
                     30, "the status line never showed valence 7.5")
            after = wait_for(lambda: (src := image.get_attribute("src")) != before and src, 30, "the image did not change")
            (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
            browser.save_screenshot(str(ROOT / "tests" / "artifacts" / "browser_sliders.png"))
            assert after != before
            # the rest of the notebook must also have run without an error
            errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                      if "Traceback" in e.text or "Error" in e.text]
            assert not errors, errors[0][:2000]
    finally:
        browser_context.__exit__(None, None, None)
