"""The training precision follows the GPU's compute capability, decided without a GPU here."""

from __future__ import annotations

import torch

from unet_kit.device import choose_precision

CUDA = torch.device("cuda")  # only a name: choose_precision reads nothing from it when given a capability


def test_ampere_and_newer_train_in_bfloat16_without_loss_scaling():
    for capability in ((8, 0), (8, 6), (9, 0), (10, 0)):
        precision = choose_precision(CUDA, capability)
        assert (precision.name, precision.autocast_dtype, precision.scales_loss) == ("bf16", torch.bfloat16, False)


def test_a_t4_or_v100_trains_in_float16_with_loss_scaling_and_says_why():
    for capability in ((7, 5), (7, 0)):
        precision = choose_precision(CUDA, capability)
        assert (precision.name, precision.autocast_dtype, precision.scales_loss) == ("fp16", torch.float16, True)
        assert "bfloat16" in precision.reason and f"{capability[0]}.{capability[1]}" in precision.reason


def test_older_gpus_and_the_cpu_train_in_float32():
    assert choose_precision(CUDA, (6, 1)).autocast_dtype is None
    cpu = choose_precision(torch.device("cpu"))
    assert (cpu.name, cpu.mixed, cpu.scales_loss) == ("fp32", False, False)
