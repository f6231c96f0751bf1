#!/usr/bin/env bash
# Train, score and export the reference model (the `reference` preset) on the default dataset.
# Rerun the same command after an interruption: each step resumes or is skipped once done.
#   bash scripts/train_reference.sh            # work folder: weights/reference_run/
#   GAN_EPOCHS=300 bash scripts/train_reference.sh   # fewer GAN epochs than the preset's 650
# The model exported is the run's best by its own validation checks (128 fakes each) or its last EMA, whichever
# scores the lower KID on the validation split in benchmarks/paired_kid.py (1,000 fakes each, the same subsets): the
# in-run check is too noisy to choose between checkpoints on a flat curve (benchmarks/README.md, twenty-fifth session).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=weights/reference_run
DATA=(--images data/landscapes/images --labels data/landscapes/labels.csv)
mkdir -p "$OUT"

latest_run() {  # the newest run folder of a kind ("vae" or "gan") under $OUT/runs
    { ls -d "$OUT"/runs/*-"$1"-64 2>/dev/null || true; } | sort | tail -n 1
}

# Checkpoints (vae_*.pth, progressive_*.pth) land in $OUT; resumable states in $OUT/runs/<run>.
if [ ! -f "$OUT/vae_final.pth" ]; then
    vae_run=$(latest_run vae)
    $PY -m helpers train-vae "${DATA[@]}" --preset reference --out "$OUT" ${vae_run:+--resume "$vae_run"}
fi
if [ ! -f "$OUT/progressive_gen_ema_final.pth" ]; then
    gan_run=$(latest_run gan)
    $PY -m helpers train-gan "${DATA[@]}" --preset reference --vae "$OUT/vae_best.pth" --out "$OUT" \
        ${GAN_EPOCHS:+--epochs "$GAN_EPOCHS"} ${gan_run:+--resume "$gan_run"}
fi
$PY benchmarks/paired_kid.py --split validation --json "$OUT/choice.json" \
    --weights "$OUT/progressive_gen_ema_best.pth" "$OUT/progressive_gen_ema_final.pth"
chosen=$($PY -c 'import json, sys; rows = json.load(open(sys.argv[1]))["rows"]; print(min(rows, key=lambda row: row["kid"])["weights"])' \
    "$OUT/choice.json")
echo "exporting $chosen (the lower validation KID in $OUT/choice.json)"
$PY -m helpers evaluate "${DATA[@]}" --weights "$chosen" --out "$OUT/metrics.json"
$PY -m helpers export-reference --weights "$chosen" --metrics "$OUT/metrics.json" --out weights/reference
