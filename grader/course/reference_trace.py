"""Regenerate the stored trace the notebook's architecture figure is drawn from.

``python -m grader generate`` (or ``python -m grader.course.reference_trace`` alone) traces the
solution notebook's ``UNet`` and writes ``unet_kit/reference_trace.json``; run it whenever the
solution's UNet changes (a test fails until then). The model and input live on the meta device: the shapes are exactly those of the
real 64-wide network on a 512 x 512 image, without computing or storing a single pixel.
"""

from __future__ import annotations

from pathlib import Path

import torch

from grader.course.notebook_cells import task_namespace
from unet_kit.assignment import SOLUTION_NOTEBOOK
from unet_kit.model_trace import REFERENCE_TRACE, ModelTrace, trace_model

#: The network the notebook's figure shows: the paper's width on a 512 x 512 ISBI slice.
INPUT_SIDE, HIDDEN_CHANNELS, INPUT_CHANNELS, OUTPUT_CHANNELS = 512, 64, 1, 1


def trace_solution(notebook: Path = SOLUTION_NOTEBOOK, device: str = "meta") -> ModelTrace:
    """The trace of ``notebook``'s UNet at the figure's size, built and run on ``device``."""
    unet = task_namespace(notebook)["UNet"]
    with torch.device(device):
        model = unet(INPUT_CHANNELS, OUTPUT_CHANNELS, hidden_channels=HIDDEN_CHANNELS)
        image = torch.zeros(1, INPUT_CHANNELS, INPUT_SIDE, INPUT_SIDE)
    description = (f"UNet({INPUT_CHANNELS}, {OUTPUT_CHANNELS}, hidden_channels={HIDDEN_CHANNELS}) "
                   f"of {notebook.parent.name}/{notebook.name}")
    trace = trace_model(model, image, description)
    if trace.failure is not None:
        raise RuntimeError(f"the solution's UNet fails on a {INPUT_SIDE} x {INPUT_SIDE} input: {trace.failure}")
    return trace


def write_reference_trace(path: Path = REFERENCE_TRACE) -> Path:
    path.write_text(trace_solution().to_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_reference_trace()}")
