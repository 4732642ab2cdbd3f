"""Predictions out of the notebook: membrane probabilities as a TIFF stack, as the challenge took them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tifffile

from unet_kit.assignment import REPOSITORY_ROOT

DEFAULT_OUTPUT_DIR = REPOSITORY_ROOT / "output"


def save_membrane_probabilities(membrane_probability: np.ndarray,
                                path: str | os.PathLike | None = None) -> Path:
    """Write (S, H, W) membrane probabilities in [0, 1] as a float32 TIFF stack, one page per slice.

    The ISBI 2012 challenge scored exactly this: one probability map per test slice, 1 meaning
    membrane. Without ``path`` the stack goes to ``output/test-volume-membrane-probability.tif``
    in the repository. Returns the path written.
    """
    stack = np.asarray(membrane_probability, dtype=np.float32)
    if stack.ndim != 3:
        raise ValueError(f"expected a (slices, height, width) stack, got shape {stack.shape}")
    if not np.isfinite(stack).all() or stack.min() < 0 or stack.max() > 1:
        raise ValueError("membrane probabilities must be finite and lie in [0, 1]")
    path = Path(path) if path is not None else DEFAULT_OUTPUT_DIR / "test-volume-membrane-probability.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, stack, photometric="minisblack", metadata={"axes": "ZYX"})
    return path
