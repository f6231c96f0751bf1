"""benchmarks/machine.py names the machine next to every figure; it must not hang on CPUs without native bf16."""

import importlib.util
from pathlib import Path

import torch

import helpers.training.precision as precision

ROOT = Path(__file__).resolve().parents[1]


def load_machine():
    spec = importlib.util.spec_from_file_location("machine", ROOT / "benchmarks" / "machine.py")
    machine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(machine)
    return machine


def facts_on(monkeypatch, native_bf16: bool, matmul: float, conv: float):
    """(machine_facts(), the dtypes it measured) on a pretend CPU whose matmul and conv peaks are given."""
    machine = load_machine()
    measured = []
    monkeypatch.setattr(machine, "matmul_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or matmul)
    monkeypatch.setattr(machine, "conv_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or conv)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native_bf16)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return machine.machine_facts(), measured


def test_the_bf16_peak_is_not_measured_where_bf16_is_emulated(monkeypatch):
    facts, measured = facts_on(monkeypatch, native_bf16=False, matmul=100.0, conv=200.0)
    assert measured == [torch.float32, torch.float32]
    assert facts["peak_fp32_gflops"] == 200 and facts["peak_bf16_gflops"] is None and not facts["native_bf16"]


def test_the_bf16_peak_is_measured_where_bf16_is_native(monkeypatch):
    facts, measured = facts_on(monkeypatch, native_bf16=True, matmul=300.0, conv=200.0)
    assert measured.count(torch.bfloat16) == 2 and facts["peak_bf16_gflops"] == 300


def test_the_cpu_model_names_its_family_and_model_numbers(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n"
                       "model name\t: AMD EPYC\n\nprocessor\t: 1\ncpu family\t: 26\n")
    assert load_machine().cpu_model(str(cpuinfo)) == "AMD EPYC (family 25, model 1)"
