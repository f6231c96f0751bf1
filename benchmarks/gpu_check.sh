#!/usr/bin/env bash
# One unattended command for a machine with a GPU, run from a fresh checkout: installs this
# package (torch must already be there), then runs benchmarks/gpu_check.py, which prints JSON and
# writes $OUT/gpu_check.json when $OUT is set. Arguments go to the script:
#   bash benchmarks/gpu_check.sh                       # the GPU check, a few minutes
#   bash benchmarks/gpu_check.sh --device cpu --tiny   # the same stages on a CPU, to check the script
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# Our package without its dependencies: torch is installed, and the machine may have no network.
# --no-build-isolation: setuptools comes from the environment, not from a download.
if ! $PY -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null; then
  echo "gpu_check: pip install -e . failed; using the checkout through PYTHONPATH" >&2
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
# The few pure-Python packages the check imports (module:package); fetched only when missing.
for pair in numpy:numpy PIL:pillow pandas:pandas tqdm:tqdm scipy:scipy pytest:pytest; do
  $PY -c "import ${pair%%:*}" 2>/dev/null || $PY -m pip install --quiet "${pair##*:}" \
    || echo "gpu_check: ${pair##*:} is missing and could not be installed" >&2
done
exec $PY benchmarks/gpu_check.py "$@"
