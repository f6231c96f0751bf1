"""benchmarks/continue_run.py: arms continue copies of one finished run, with their own settings, and leave
the source as it was."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.training.runs import read_config, read_stats

@pytest.fixture
def continue_run(benchmark_script):
    return benchmark_script("continue_run")


def test_arm_settings_take_their_fields_types_and_refuse_unknown_fields(continue_run):
    name, settings = continue_run.parse_arm("decay:lr_decay_start=0.8889,lr_floor=0.1,r1_interval=8,xflip=false,g_va_weight=0.25")
    assert name == "decay"
    assert settings == {"lr_decay_start": 0.8889, "lr_floor": 0.1, "r1_interval": 8, "xflip": False, "g_va_weight": 0.25}
    assert isinstance(settings["r1_interval"], int) and isinstance(settings["g_va_weight"], float)
    assert continue_run.parse_arm("constant") == ("constant", {})
    assert continue_run.parse_arm("soft:upsample=bilinear_last") == ("soft", {"upsample": "bilinear_last"})
    with pytest.raises(SystemExit, match="r1_weight"):
        continue_run.parse_arm("typo:r1_weight=0.05")


def test_arms_continue_one_run_with_their_own_settings_and_leave_it_unchanged(ci_runs, tiny_landscapes, tmp_path,
                                                                              continue_run, monkeypatch):
    source, vae, gan = ci_runs
    source_run = continue_run.source_run(source)
    source_stats = (source_run / "stats.jsonl").read_text()
    from_step = max(record.get("step", 0) for record in read_stats(source_run))

    class Scored(Exception):
        pass

    def score(weights, *args, **kwargs):
        assert Path(weights).name == "progressive_gen_ema_final.pth"
        raise Scored

    monkeypatch.setattr(continue_run, "evaluate_checkpoint", score)
    train, val = tiny_landscapes
    args = SimpleNamespace(source=str(source), vae=str(vae.best_path), preset="ci", epochs=2, work=str(tmp_path))
    with pytest.raises(SystemExit, match="already has 2"):  # the ci run's own length: nothing to continue
        continue_run.run_arm("constant", {}, args, None, None, (train, val, None))
    args.epochs = 4
    quiet = "eval_every=0,lpips_weight=0"
    for arm in (f"constant:{quiet}", f"decay:{quiet},lr_decay_start=0.5,lr_floor=0.1", f"soft:{quiet},upsample=bilinear_last"):
        name, settings = continue_run.parse_arm(arm)
        with pytest.raises(Scored):
            continue_run.run_arm(name, settings, args, None, None, (train, val, None))

    assert (source_run / "stats.jsonl").read_text() == source_stats  # the source is read, never written
    rates = {}
    for name in ("constant", "decay"):
        records = [r for r in read_stats(tmp_path / name / "runs" / source_run.name) if "g_lr" in r]
        assert records[-1]["step"] > from_step  # continued past the source's last step
        rates[name] = [r["g_lr"] for r in records if r["step"] > from_step]
    base = continue_run.preset("ci", "gan").g_learning_rate
    assert rates["constant"] and all(rate == pytest.approx(base) for rate in rates["constant"])
    assert rates["decay"] and rates["decay"][-1] < 0.7 * base  # the decay over the extra epochs
    upsampling = {name: read_config(tmp_path / name / "runs" / source_run.name)["model"]["upsample"] for name in ("constant", "soft")}
    assert upsampling == {"constant": "nearest", "soft": "bilinear_last"}  # G went on with the source's weights, drawn softer


def test_an_arm_stopped_before_its_end_says_how_to_go_on_and_scores_nothing(ci_runs, tiny_landscapes, tmp_path,
                                                                             continue_run, monkeypatch):
    source, vae, _ = ci_runs
    train, val = tiny_landscapes
    monkeypatch.setattr(continue_run, "train_gan", lambda *args, **kwargs: SimpleNamespace(finished=False))  # Ctrl-C
    monkeypatch.setattr(continue_run, "evaluate_checkpoint", lambda *args, **kwargs: pytest.fail("scored an unfinished arm"))
    args = SimpleNamespace(source=str(source), vae=str(vae.best_path), preset="ci", epochs=4, work=str(tmp_path))
    with pytest.raises(SystemExit, match="stopped before epoch 4; rerun the same command"):
        continue_run.run_arm("constant", {}, args, None, None, (train, val, None))
