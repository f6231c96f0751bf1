"""benchmarks/step_profile.py times every ATen operator of a training step, the backward pass's included."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from step_profile import OperatorTimer, group_of  # noqa: E402


def test_the_timer_sees_forward_and_backward_operators_with_their_layouts():
    conv = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    images = torch.randn(2, 3, 8, 8).requires_grad_(True)  # NCHW into a channels-last conv
    timer = OperatorTimer()
    with timer:
        conv(images).sum().backward()
    names = {key[0] for key in timer.seconds}
    assert {"convolution", "convolution_backward"} <= names
    forward = next(key for key in timer.seconds if key[0] == "convolution")
    assert forward[2] == "NC" and timer.calls[forward] == 1  # the input's layout, then the weight's
    assert all(seconds >= 0 for seconds in timer.seconds.values())
    with torch.no_grad():
        conv(images)  # outside the mode: not timed
    assert timer.calls[forward] == 1


def test_operators_fall_into_their_groups():
    assert group_of("convolution_backward") == "convolution"
    assert group_of("addmm") == "matrix_product"
    assert group_of("_to_copy") == "cast"
    assert group_of("_fused_adam_") == "optimiser"
    assert group_of("leaky_relu_backward") == "other"
