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


def test_the_bf16_peak_is_not_measured_where_bf16_is_emulated(monkeypatch):
    machine = load_machine()
    measured = []
    monkeypatch.setattr(machine, "matmul_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or 100.0)
    monkeypatch.setattr(machine, "conv_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or 200.0)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    facts = machine.machine_facts()
    assert measured == [torch.float32, torch.float32]
    assert facts["peak_fp32_gflops"] == 200 and facts["peak_bf16_gflops"] is None and not facts["native_bf16"]


def test_the_bf16_peak_is_measured_where_bf16_is_native(monkeypatch):
    machine = load_machine()
    measured = []
    monkeypatch.setattr(machine, "matmul_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or 300.0)
    monkeypatch.setattr(machine, "conv_peak_gflops", lambda dtype=torch.float32: measured.append(dtype) or 200.0)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    facts = machine.machine_facts()
    assert measured.count(torch.bfloat16) == 2 and facts["peak_bf16_gflops"] == 300
