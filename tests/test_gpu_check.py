"""benchmarks/gpu_check.py runs unattended when a GPU machine is lent, with no one to fix it
then: rehearse its every stage on the CPU (``--device cpu --tiny``) so it cannot rot."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_rehearses_every_stage_on_the_cpu(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    monkeypatch.setenv("OUT", str(tmp_path))
    assert gpu_check.main(["--device", "cpu", "--tiny", "--sizes", "64"]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["ok"] and not report["failed_checks"]
    assert report["gan_64"]["checks"]["same_stats_steps_as_the_whole_run"] and report["gan_64"]["images_per_second"] > 0
    assert report["generate_64"]["checks"]["same_images_again"]
    assert "skipped" in report["cuda_tests"]["summary"] or "passed" in report["cuda_tests"]["summary"]
