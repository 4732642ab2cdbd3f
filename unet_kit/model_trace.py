"""What a U-Net's forward pass does, block by block, recorded by running it.

Hooks on the blocks (modules whose class is ``FeatureMapBlock``, ``ContractingBlock`` or
``ExpandingBlock``, wherever the model keeps them) record each block call in call order: its
kind, which earlier call produced each tensor it received (tensors are matched by identity, so
the wiring is what ``forward`` really did, whatever the variables were called) and the shape of
its output. A forward pass that raises (a skip of the wrong level has the wrong channels) still
leaves a trace: the calls up to the failing one, and the error. The architecture figure is drawn
from such a trace, so it cannot disagree with the code it shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

BLOCK_KINDS = ("FeatureMapBlock", "ContractingBlock", "ExpandingBlock")
#: The producer of the tensor given to the model itself.
INPUT = "input"
#: The producer of a tensor no block returned (the model computed it between blocks).
UNTRACED = "untraced"
#: The stored trace of the solution's ``UNet(1, 1, hidden_channels=64)`` on a 512 x 512 input,
#: written by ``python -m grader.course.reference_trace``.
REFERENCE_TRACE = Path(__file__).with_name("reference_trace.json")

Producer = int | str  # the index of an earlier block call, INPUT or UNTRACED


@dataclass(frozen=True)
class BlockCall:
    """One call of a block: what kind, whose outputs it received, what shape it returned."""

    kind: str
    inputs: tuple[Producer, ...]
    output_shape: tuple[int, int, int, int] | None  # (N, C, H, W); None when the call raised


@dataclass(frozen=True)
class Edge:
    """A tensor passed from its producer to the block call ``block``, as its ``position``-th input."""

    source: Producer
    block: int
    position: int


@dataclass(frozen=True)
class ModelTrace:
    """The block calls of one forward pass of ``model`` on an ``input_shape`` input, in call order.

    ``failure`` is the error that stopped the pass (``"RuntimeError: ..."``), None when it ran through.
    """

    model: str
    input_shape: tuple[int, int, int, int]
    calls: tuple[BlockCall, ...]
    failure: str | None = None

    @property
    def hidden_channels(self) -> int | None:
        """The channels of the first block's output (the assignment's x0), None if that call raised."""
        shape = self.calls[0].output_shape
        return None if shape is None else shape[1]

    def edges(self) -> list[Edge]:
        """Every tensor passed into a block, untraced ones left out."""
        return [Edge(source, block, position) for block, call in enumerate(self.calls)
                for position, source in enumerate(call.inputs) if source != UNTRACED]

    def joins(self) -> list[Edge]:
        """The skip connections: tensors an expanding block receives besides the map it upsamples."""
        return [edge for edge in self.edges()
                if edge.position > 0 and self.calls[edge.block].kind == "ExpandingBlock"]

    def to_json(self) -> str:
        """JSON with one block call a line, so a change to the wiring reads as a one-line diff."""
        calls = ",\n  ".join(json.dumps({"kind": call.kind, "inputs": list(call.inputs),
                                         "output_shape": call.output_shape}) for call in self.calls)
        return (f'{{\n "model": {json.dumps(self.model)},\n "input_shape": {json.dumps(self.input_shape)},\n'
                f' "failure": {json.dumps(self.failure)},\n "calls": [\n  {calls}\n ]\n}}\n')

    @classmethod
    def from_json(cls, text: str) -> ModelTrace:
        document = json.loads(text)
        calls = tuple(BlockCall(call["kind"], tuple(call["inputs"]),
                                None if call["output_shape"] is None else tuple(call["output_shape"]))
                      for call in document["calls"])
        return cls(document["model"], tuple(document["input_shape"]), calls, document["failure"])


def trace_model(model: nn.Module, example_input: torch.Tensor, description: str | None = None) -> ModelTrace:
    """Run ``model`` once on ``example_input`` (N, C, H, W) and record its block calls.

    The model runs in eval mode without gradients and is left in the mode it was in, so tracing
    a student's model changes nothing about it (batch norm statistics included). An error in the
    forward pass ends the trace rather than the caller: it is kept in ``failure``. A meta-device
    model and input give the same trace without computing a single pixel.
    """
    producers = {id(example_input): INPUT}
    kept_alive = [example_input]  # an id stays unique only while its tensor lives
    received: list[tuple[str, tuple[Producer, ...]]] = []  # (kind, inputs), one per call, made when it starts
    output_shapes: list[tuple[int, ...] | None] = []  # filled when the call returns
    running: list[int] = []  # the calls started and not yet returned, innermost last

    def start(module: nn.Module, args: tuple, kwargs: dict) -> None:
        tensors = [value for value in (*args, *kwargs.values()) if isinstance(value, torch.Tensor)]
        received.append((type(module).__name__, tuple(producers.get(id(tensor), UNTRACED) for tensor in tensors)))
        output_shapes.append(None)
        running.append(len(received) - 1)

    def finish(module: nn.Module, args: tuple, kwargs: dict, output) -> None:
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"{type(module).__name__} returned {type(output).__name__}, not a tensor")
        call = running.pop()
        output_shapes[call] = tuple(output.shape)
        producers[id(output)] = call
        kept_alive.append(output)

    blocks = [module for module in model.modules() if type(module).__name__ in BLOCK_KINDS]
    hooks = [hook for block in blocks for hook in (block.register_forward_pre_hook(start, with_kwargs=True),
                                                    block.register_forward_hook(finish, with_kwargs=True))]
    was_training, failure = model.training, None
    try:
        model.eval()
        with torch.no_grad():
            model(example_input)
    except Exception as error:  # noqa: BLE001 - a student's error is what the trace should show
        failure = f"{type(error).__name__}: {error}"
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    if not received:
        raise ValueError(f"{type(model).__name__} called none of {', '.join(BLOCK_KINDS)}: nothing to draw"
                         + (f" ({failure})" if failure else ""))
    calls = tuple(BlockCall(kind, inputs, shape) for (kind, inputs), shape in zip(received, output_shapes))
    return ModelTrace(description or type(model).__name__, tuple(example_input.shape), calls, failure)


def load_reference_trace() -> ModelTrace:
    """The solution's trace stored with the kit, for drawing before a student's UNet exists."""
    return ModelTrace.from_json(REFERENCE_TRACE.read_text(encoding="utf-8"))
