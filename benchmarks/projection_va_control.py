"""Does projection conditioning (Miyato & Koyama 2018) improve VA control?

Same VAE, same seed, 6 GAN epochs each at the quick preset's rates, with and without
projection; VA control is the Spearman correlation between requested VA (a 9x9 grid, 4 seeds
per cell) and an independent regressor's prediction, beside the regressor's ceiling on real
images. No Inception, so it runs in about 8 minutes on 2 CPU cores.

    python benchmarks/projection_va_control.py [weights/quick-benchmark/vae_best.pth]
"""

import json
import sys
import time

import numpy as np
from helpers.data import load_default_dataset
from helpers.config import preset
from helpers.training.gan import train_gan
from helpers.models.checkpoint import load_generator
from helpers.generate import generate
from helpers.metrics import train_va_regressor, spearman

VAE = sys.argv[1] if len(sys.argv) > 1 else "weights/quick-benchmark/vae_best.pth"  # from quick_preset.py
d = load_default_dataset(64, progress=False); tr, va, _ = d.split()
reg = train_va_regressor(tr.images, tr.valence, tr.arousal, epochs=8, seed=0, progress=False)
pv, pa = reg.predict(va.images)
out = {"ceiling": {"valence": spearman(pv, va.valence), "arousal": spearman(pa, va.arousal)}}
levels = np.linspace(1, 9, 9); V, A = np.meshgrid(levels, levels); V, A = np.repeat(V.ravel(), 4), np.repeat(A.ravel(), 4)
for projection in (False, True):
    t = time.time()
    r = train_gan(preset("quick", "gan", epochs=6, eval_every=0, sample_every=6), tr, va,
                  VAE, out_dir=f"/tmp/proj-{projection}", projection=projection,
                  progress=False, lpips_model=None)
    g = load_generator(r.checkpoints["gen_ema_final"])
    images = generate(g, V, A, np.arange(len(V)))
    gv, ga = reg.predict(images)
    out[f"projection={projection}"] = {"valence_spearman": spearman(gv, V), "arousal_spearman": spearman(ga, A), "seconds": time.time() - t}
    print(json.dumps(out), flush=True)
