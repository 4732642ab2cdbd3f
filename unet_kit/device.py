"""Choose where to train: CUDA when the runtime has a GPU, else the CPU with all its cores."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, which containers and CI narrow), or
    fewer where ``OMP_NUM_THREADS`` asks for fewer (the autograder runs one thread per notebook)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    requested = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(requested)) if requested.isdigit() and int(requested) > 0 else cores


def choose_device() -> torch.device:
    """The fastest device available, with the CPU set to use every core it is allowed."""
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True  # tiles have one size, so the autotuned kernels are reused
        return torch.device("cuda")
    torch.set_num_threads(usable_cores())
    return torch.device("cpu")


def synchronise(device: torch.device | None) -> None:
    """Wait for the work queued on a GPU, so that the host's clock measures it (a no-op elsewhere)."""
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def processor_name() -> str:
    """The CPU's model name as the operating system reports it, e.g. 'AMD EPYC'."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe(device: torch.device) -> str:
    """A short human-readable name, e.g. 'cuda (NVIDIA H100)' or 'cpu (AMD EPYC, 2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({processor_name()}, {torch.get_num_threads()} threads)"


@dataclass(frozen=True)
class Precision:
    """How to train on a device: the autocast type (None: float32 throughout), loss scaling, and why."""

    name: str
    autocast_dtype: torch.dtype | None
    scales_loss: bool
    reason: str

    @property
    def mixed(self) -> bool:
        return self.autocast_dtype is not None


def choose_precision(device: torch.device, capability: tuple[int, int] | None = None) -> Precision:
    """bf16 on compute capability 8.0+, fp16 with loss scaling on 7.x, fp32 elsewhere.

    Decided by the compute capability, not ``torch.cuda.is_bf16_supported()``: a T4 (7.5)
    reports bf16 as supported, but cuDNN has no bf16 convolutions before 8.0, so they would
    run on slow fallback kernels. ``capability`` overrides the device's own, for tests.
    """
    if device.type != "cuda":
        return Precision("fp32", None, False, "no GPU: float32 throughout")
    major, minor = capability or torch.cuda.get_device_capability(device)
    if major >= 8:
        return Precision("bf16", torch.bfloat16, False,
                         f"compute capability {major}.{minor} has bfloat16 tensor cores")
    if major == 7:
        return Precision("fp16", torch.float16, True,
                         f"compute capability {major}.{minor} (T4, V100) has float16 tensor cores but no fast "
                         "bfloat16 convolutions: float16 with loss scaling")
    return Precision("fp32", None, False, f"compute capability {major}.{minor} has no tensor cores: float32")


#: What budgets that never use mixed precision (``cpu``, ``smoke``) train in.
FULL_PRECISION = Precision("fp32", None, False, "this budget trains in float32")
