#!/usr/bin/env bash
# Every test: unit tests, the notebooks executed under nbval with the `ci` preset, and the
# real-browser test of the sliders. Called by `make test` and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export VA_PRESET=ci
exec $PY -m pytest tests notebooks --ignore=notebooks/outputs --nbval-lax --nbval-current-env -p no:cacheprovider "$@"
