"""Choose where to train: CUDA when the runtime has a GPU, else the CPU with all its cores."""

from __future__ import annotations

import os

import torch


def choose_device() -> torch.device:
    """The fastest device available, with the CPU set to use every core it is allowed."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else os.cpu_count() or 1)
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    """A short human-readable name, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
