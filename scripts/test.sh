#!/usr/bin/env bash
# Every test: unit tests, the notebooks executed under nbval with the `ci` preset, and the
# real-browser test of the sliders. Called by `make test` and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# The browser test drives Debian's Chromium; install it once when it is missing.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "tests/test_browser.py needs Chromium: sudo apt-get install chromium chromium-driver" >&2
  fi
fi
export VA_PRESET=ci
exec $PY -m pytest tests notebooks --ignore=notebooks/outputs --nbval-lax --nbval-current-env -p no:cacheprovider "$@"
