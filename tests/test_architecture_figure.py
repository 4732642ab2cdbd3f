"""The architecture figure draws what the network's forward pass does, found by tracing it."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from grader.course.reference_trace import trace_solution
from tests.submissions import CORRECT_VARIANTS, MUTANTS
from unet_kit.architecture_figure import draw_unet_architecture, drawn_edges, layout
from unet_kit.model_trace import UNTRACED, Edge, load_reference_trace, trace_model

matplotlib.use("Agg")

#: Task 5's table: ExpandingBlock(16h) joins x3, then 8h joins x2, 4h joins x1, 2h joins x0. The
#: expanding blocks are the 6th to 9th block calls (x5 ... x8); the skip is their second input.
TASK_5_SKIPS = [Edge(3, 5, 1), Edge(2, 6, 1), Edge(1, 7, 1), Edge(0, 8, 1)]
SMALL_SIDE = 188  # the smallest input the notebook's tests use; tracing it costs next to nothing


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def unet_with_answer(solution: dict, answer: str):
    """The UNet class a student gets by typing ``answer`` into Task 5, with the solution's blocks."""
    namespace = dict(solution)
    exec(answer, namespace)
    return namespace["UNet"]


def test_stored_trace_is_the_solutions_own():
    assert load_reference_trace() == trace_solution(), (
        "unet_kit/reference_trace.json is stale: regenerate it with `make student-notebook`")


@pytest.mark.slow
def test_meta_device_trace_equals_a_real_forward_pass():
    """The stored trace is made on the meta device; the real 64-wide network on a 512 image agrees."""
    assert trace_solution(device="cpu") == trace_solution(device="meta")


@pytest.mark.parametrize("side", [300, SMALL_SIDE])
def test_every_drawn_size_is_the_networks_own(solution, side):
    """Bars are the input and the (N, C, H, W) of each of the UNet's modules' outputs, in call order."""
    model = solution["UNet"](1, 1, hidden_channels=2)
    recorded = []
    hooks = [module.register_forward_hook(lambda _, __, output: recorded.append(tuple(output.shape)))
             for module in model.children()]
    image = torch.zeros(1, 1, side, side)
    with torch.no_grad():
        model(image)
    for hook in hooks:
        hook.remove()
    assert [bar.shape for bar in layout(trace_model(model, image))] == [tuple(image.shape), *recorded]


def test_the_stored_figure_draws_each_traced_edge_once_and_the_skips_of_task_5():
    figure = draw_unet_architecture(input_side=512, hidden_channels=64)
    trace = load_reference_trace()
    assert drawn_edges(figure) == trace.edges()
    assert [edge for edge in drawn_edges(figure) if edge.position > 0] == trace.joins() == TASK_5_SKIPS


def test_figure_title_states_the_output_size():
    figure = draw_unet_architecture(512, 64)
    assert "the output is 373 x 373" in figure.axes[0].get_title()


def test_the_stored_figure_refuses_a_size_it_was_not_traced_at():
    with pytest.raises(ValueError, match=r"draw_unet_architecture\(model=UNet\(1, 1, 64\), input_side=300\)"):
        draw_unet_architecture(input_side=300, hidden_channels=64)


def test_skips_to_wrong_levels_draw_a_wrong_arrow_into_the_block_that_fails(solution):
    mutant = next(mutant for mutant in MUTANTS if mutant.name == "unet_skips_to_wrong_levels")
    figure = draw_unet_architecture(model=unet_with_answer(solution, mutant.answer())(1, 1, 4), input_side=SMALL_SIDE)
    skips = [edge for edge in drawn_edges(figure) if edge.position > 0]
    assert skips == [Edge(3, 5, 1), Edge(2, 6, 1), Edge(0, 7, 1)]  # x7 = self.expand3(x6, x0) raises
    assert "the forward pass stopped in x7 (ExpandingBlock)" in figure.axes[0].get_title()
    assert any("RuntimeError" in text.get_text() for text in figure.texts)


def test_blocks_kept_in_module_lists_draw_the_solutions_arrows(solution):
    _, answer = CORRECT_VARIANTS["unet_with_module_lists"]
    figure = draw_unet_architecture(model=unet_with_answer(solution, answer)(1, 1, 4), input_side=SMALL_SIDE)
    assert drawn_edges(figure) == drawn_edges(draw_unet_architecture(input_side=512, hidden_channels=64))


def test_a_tensor_computed_between_blocks_is_named_in_the_caption_not_drawn(solution):
    class ReluBetweenBlocks(solution["UNet"]):
        def forward(self, x):
            return self.contract1(torch.relu(self.upfeature(x)))

    trace = trace_model(ReluBetweenBlocks(1, 1, 2), torch.zeros(1, 1, SMALL_SIDE, SMALL_SIDE))
    assert trace.calls[1].inputs == (UNTRACED,)
    figure = draw_unet_architecture(model=ReluBetweenBlocks(1, 1, 2), input_side=SMALL_SIDE)
    assert drawn_edges(figure) == [Edge("input", 0, 0)]
    assert any("computed between blocks: x1's input 1" in text.get_text() for text in figure.texts)


def test_tracing_leaves_the_model_in_training_mode(solution):
    model = solution["UNet"](1, 1, 2).train()
    trace_model(model, torch.zeros(1, 1, SMALL_SIDE, SMALL_SIDE))
    assert model.training
