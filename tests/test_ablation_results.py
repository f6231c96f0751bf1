"""The committed full-budget ablation rows (benchmarks/results/ablations_full_budget.json) are
what their names say: each names a row of benchmarks/ablations.py, and the settings it recorded
are the ones that row builds today, so `ablations.py --rows NAME` reruns it."""

import json
import os
from pathlib import Path

import pytest

from helpers.config import model_config_for_size, preset

ROOT = Path(__file__).resolve().parents[1]


def test_every_full_budget_row_is_rerun_by_its_name(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import ablations

    rows = json.loads((ROOT / "benchmarks" / "results" / "ablations_full_budget.json").read_text())["rows"]
    assert rows and "new_recipe-s0" in {row["row"] for row in rows}
    assert set(ablations.row_names()) >= {row["row"] for row in rows}
    for row in rows:
        model_overrides, _, _ = ablations.ROWS[row["name"]]
        model = model_config_for_size(64, "quick", **model_overrides)
        gan = preset("quick", "gan", **ablations.row_gan_overrides(row["name"]))
        assert row["row"] == f"{row['name']}-s{row['seed']}"
        assert row["lr_floor"] == gan.lr_floor, row["row"]
        assert row["g_learning_rate"] == gan.g_learning_rate, row["row"]
        assert row["gan_epochs"] == max(2, round(gan.epochs * row["budget"])), row["row"]
        for setting in ("rgb_output", "full_resolution_channels", "noise_inputs"):
            assert row[setting] == getattr(model, setting), (row["row"], setting)


def test_every_learning_rate_arm_is_found_again_by_its_name(monkeypatch):
    """learning_rate.py skips an arm whose folder (arm_name) holds a finished run; a committed arm whose name
    did not come from its own rates, seed, precision, batch size and EMA decay would be retrained, or worse, read from
    another arm."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import learning_rate

    files = sorted((ROOT / "benchmarks" / "results").glob("learning_rate*.json"))
    assert len(files) >= 2
    for path in files:
        for arm in json.loads(path.read_text())["arms"]:
            # The precision asked for, recorded from 2026-12-06 on; earlier arms ran on a CPU with native bf16, so "auto"
            # meant bf16 there and fp32 arms were asked for.
            precision = arm.get("precision", "fp32" if arm.get("bf16") is False else "auto")
            # Arms from before batch size, D's rate and the EMA decay were recorded ran at the values names count from.
            batch = arm.get("batch_size", learning_rate.NAMED_FROM_BATCH_SIZE)
            d_rate = arm.get("d_learning_rate", learning_rate.NAMED_FROM_D_RATE)
            ema = arm.get("ema_decay", learning_rate.NAMED_FROM_EMA_DECAY)
            # Arms from before D's widths and the time budget were recorded had the quick model's D and fixed epochs.
            d_channels, minutes = arm.get("d_channels"), arm.get("minutes", 0)
            grad_clip = arm.get("grad_clip", learning_rate.NAMED_FROM_GRAD_CLIP)  # recorded from 2026-12-06 on
            lecam = arm.get("lecam_weight", 0.0)  # recorded from 2026-12-06 on, with the LeCam arms
            preset_name = arm.get("preset", "quick")  # recorded from 2026-12-06 on, with the first reference-preset arm
            ada = arm.get("ada", "auto")  # recorded from the ADA-off arms on (2026-12-06)
            upsample = arm.get("upsample", "nearest")  # recorded from the bilinear arms on (2026-12-06)
            # The generator's widths, recorded from the wider-generator arms on (2026-12-06); the quick model's before.
            generator = {name: arm[name] for name in ("g_channels", "full_resolution_channels") if name in arm}
            geometric = arm.get("ada_geometric", False)  # recorded from the zoom-and-rotate arms on (2026-12-06)
            # Recorded from the full-resolution D arms on (2026-12-07); D's space-to-depth start before.
            d_full = arm.get("d_full_resolution_channels", learning_rate.NAMED_FROM_D_FULL_RESOLUTION)
            assert arm["arm"] == learning_rate.arm_name(arm["g_learning_rate"], arm["seed"], precision, batch, d_rate, ema,
                                                        d_channels, minutes, grad_clip, lecam, preset_name, ada,
                                                        upsample, generator, geometric, d_full), \
                (path.name, arm["arm"])
            run_dir = Path(arm["run_dir"])  # <work>/<arm>/runs/<run>, the work folder one per VAE and epoch count
            assert run_dir.parts[0] == "weights" and run_dir.parent.parent.name == arm["arm"], (path.name, arm["arm"])


def test_arms_at_different_rates_get_different_names(monkeypatch):
    """An arm is found again by its folder name, so two rates must never share one (1.2e-3 once became 1e-3)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import learning_rate

    assert learning_rate.arm_name(4e-4, 0, d_rate=1.2e-3) != learning_rate.arm_name(4e-4, 0, d_rate=1e-3)
    assert learning_rate.arm_name(2.5e-4, 0) != learning_rate.arm_name(2e-4, 0)
    assert learning_rate.arm_name(2e-4, 0, batch_size=32, d_rate=8e-4) == "g_lr_2e-4-s0-b32-d8e-4"
    quick_d = learning_rate.QUICK_D_CHANNELS
    assert learning_rate.arm_name(4e-4, 0, d_channels=quick_d) == learning_rate.arm_name(4e-4, 0)
    assert learning_rate.arm_name(4e-4, 0, d_channels=(24, 48, 96, 192), minutes=16) == "g_lr_4e-4-s0-dc24-48-96-192-m16"
    assert learning_rate.arm_name(4e-4, 0, grad_clip=1.0) == learning_rate.arm_name(4e-4, 0)
    assert learning_rate.arm_name(4e-4, 1, grad_clip=0) == "g_lr_4e-4-s1-clip0"
    assert learning_rate.arm_name(4e-4, 1, lecam_weight=0.0) == learning_rate.arm_name(4e-4, 1)
    assert learning_rate.arm_name(4e-4, 1, lecam_weight=0.3) == "g_lr_4e-4-s1-lecam0.3"
    assert learning_rate.arm_name(4e-4, 0, batch_size=32, d_rate=1.2e-3, lecam_weight=0.3, preset_name="reference") \
        == "g_lr_4e-4-s0-b32-d1.2e-3-lecam0.3-reference"
    assert learning_rate.arm_name(4e-4, 1, ada="auto") == learning_rate.arm_name(4e-4, 1)
    assert learning_rate.arm_name(4e-4, 1, batch_size=32, d_rate=1.2e-3, lecam_weight=0.3, ada="off") \
        == "g_lr_4e-4-s1-b32-d1.2e-3-lecam0.3-ada_off"
    assert learning_rate.arm_name(4e-4, 1, upsample="nearest") == learning_rate.arm_name(4e-4, 1)
    assert learning_rate.arm_name(4e-4, 0, batch_size=32, d_rate=1.2e-3, lecam_weight=0.3, upsample="bilinear") \
        == "g_lr_4e-4-s0-b32-d1.2e-3-lecam0.3-up_bilinear"
    quick_g = {"g_channels": list(learning_rate.QUICK_MODEL.g_channels),
               "full_resolution_channels": learning_rate.QUICK_MODEL.full_resolution_channels}
    assert learning_rate.arm_name(4e-4, 1, generator=quick_g) == learning_rate.arm_name(4e-4, 1)
    assert learning_rate.arm_name(4e-4, 0, batch_size=32, d_rate=1.2e-3, lecam_weight=0.3,
                                  generator={"g_channels": (256, 128, 64, 64), "full_resolution_channels": 32}) \
        == "g_lr_4e-4-s0-b32-d1.2e-3-lecam0.3-gc256-128-64-64-f32"
    assert learning_rate.arm_name(4e-4, 1, ada_geometric=False) == learning_rate.arm_name(4e-4, 1)
    assert learning_rate.arm_name(4e-4, 1, batch_size=32, d_rate=1.2e-3, lecam_weight=0.3, ada_geometric=True) \
        == "g_lr_4e-4-s1-b32-d1.2e-3-lecam0.3-geom"


def test_an_arm_is_scored_again_when_a_resumed_run_found_a_newer_best(tmp_path, monkeypatch):
    """An arm stopped, scored and resumed can save a new best generator; its old metrics.json must not stand for it."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import learning_rate

    class Scored(Exception):
        pass

    def score(*args, **kwargs):
        raise Scored

    monkeypatch.setattr(learning_rate, "evaluate_checkpoint", score)
    out = tmp_path / "arm"
    out.mkdir()
    for name in ["progressive_gen_ema_final.pth", "progressive_gen_ema_best.pth", "metrics.json"]:
        (out / name).write_text("{}")
    best = out / "progressive_gen_ema_best.pth"
    os.utime(out / "metrics.json", (best.stat().st_mtime - 60,) * 2)  # scored before the newer best was saved
    with pytest.raises(Scored):
        learning_rate.run_arm(4e-4, 0, 60, tmp_path / "vae.pth", out, None, None, None)
    os.utime(out / "metrics.json", (best.stat().st_mtime + 60,) * 2)  # scored after it: read as it is
    with pytest.raises(KeyError):  # this stand-in metrics.json has no "realism"
        learning_rate.run_arm(4e-4, 0, 60, tmp_path / "vae.pth", out, None, None, None)


def test_a_shared_vae_of_other_decoder_widths_is_refused(tmp_path, monkeypatch):
    """Arms of a wider generator start from a VAE whose decoder has those widths; a VAE of the quick widths passed
    with --vae would be loaded into the wrong model, so the script refuses it and names the setting."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import learning_rate
    from helpers.models.checkpoint import save_model
    from helpers.models.encoder import VAE

    path = save_model(VAE(model_config_for_size(64, "quick")), tmp_path / "vae_best.pth", "vae")
    assert learning_rate.shared_vae(path, tmp_path, None, None, "quick", upsample="nearest") == path
    assert learning_rate.shared_vae(path, tmp_path, None, None, "quick", g_channels=(256, 128, 64, 32)) == path
    with pytest.raises(SystemExit, match="g_channels"):
        learning_rate.shared_vae(path, tmp_path, None, None, "quick", g_channels=(256, 128, 64, 64))
    with pytest.raises(SystemExit, match="full_resolution_channels"):
        learning_rate.shared_vae(path, tmp_path, None, None, "quick", full_resolution_channels=32)


def test_an_arm_records_its_checks_and_where_a_stopped_run_stopped(tmp_path, monkeypatch):
    """A long arm stopped between sessions is scored on its best checkpoint so far: the record says each validation
    KID by epoch, which epoch's checkpoint was scored, and where the run stopped (none of it for a finished run)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import learning_rate
    from helpers.models.checkpoint import save_model
    from helpers.models.generator import Generator

    run = tmp_path / "runs" / "00000-gan-64"
    run.mkdir(parents=True)
    records = [{"step": 50, "epoch_end": 1}, {"step": 100, "epoch_end": 2}, {"step": 100, "epoch_end": 2, "kid": 0.21},
               {"step": 150, "epoch_end": 3}, {"step": 200, "epoch_end": 4}, {"step": 200, "epoch_end": 4, "kid": 0.25},
               {"step": 250, "epoch_end": 5}]
    (run / "stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    best = save_model(Generator(model_config_for_size(64, "ci")), tmp_path / "best.pth", "generator", {"step": 100})
    stopped = learning_rate.progress(run, False, best)
    assert stopped == {"validation_kid": {"2": 0.21, "4": 0.25}, "scored_checkpoint_epoch": 2,
                       "stopped_at_epoch": 5, "stopped_at_step": 250}
    finished = learning_rate.progress(run, True, best)
    assert "stopped_at_epoch" not in finished and finished["scored_checkpoint_epoch"] == 2
