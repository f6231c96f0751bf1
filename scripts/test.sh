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
# The tests save checkpoints in the temporary folder (about 0.7 GB over a run; pytest keeps its last three
# runs' folders; 751 MB on 2026-12-05) and in weights/ci. On a full disk torch.save fails deep in a traceback
# ("RuntimeError: [enforce fail at inline_container.cc:672] ... unexpected pos"), test after test, so check the
# room first and say so in one line.
for folder in "${TMPDIR:-/tmp}" .; do
  free_mb=$(df -Pm "$folder" | awk 'NR == 2 {print $4}')
  if [ "$free_mb" -lt 1500 ]; then
    echo "make test needs about 1.5 GB free in $folder and has ${free_mb} MB: free some space (old clones," \
         "weights/*/runs, ${TMPDIR:-/tmp}/pytest-of-$(id -un)) or point TMPDIR at a disk with room." >&2
    exit 1
  fi
done
export VA_PRESET=ci
exec $PY -m pytest tests notebooks --ignore=notebooks/outputs --nbval-lax --nbval-current-env -p no:cacheprovider "$@"
