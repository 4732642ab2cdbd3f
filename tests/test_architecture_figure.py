"""The architecture figure is drawn from the same arithmetic as the network it shows."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from unet_kit.architecture_figure import POOLING, UPSAMPLING, draw_unet_architecture, feature_maps

matplotlib.use("Agg")


@pytest.mark.parametrize("side", [512, 300, 188])
def test_every_drawn_size_is_the_networks_own(solution, side):
    """Sides and channels of the maps the figure draws equal those of the solution's U-Net."""
    model = solution["UNet"](1, 1, hidden_channels=2)
    recorded = []
    hooks = [module.register_forward_hook(lambda _, __, output: recorded.append(tuple(output.shape[1:3])))
             for module in model.children()]
    with torch.no_grad():
        model(torch.zeros(1, 1, side, side))
    for hook in hooks:
        hook.remove()
    drawn = feature_maps(side, hidden_channels=2)
    # the outputs of the ten modules: x0, four contracting blocks (after pooling), four
    # expanding blocks (the map before each next upsampling, then the last 3x3 map), logits
    before_upsampling = [drawn[i - 1] for i, m in enumerate(drawn) if m.made_by == UPSAMPLING]
    module_outputs = [drawn[1], *(m for m in drawn if m.made_by == POOLING), *before_upsampling[1:],
                      drawn[-2], drawn[-1]]
    assert [(m.channels, m.side) for m in module_outputs] == recorded


def test_figure_title_states_the_output_size():
    figure = draw_unet_architecture(512, 64)
    assert "the output is 373 x 373" in figure.axes[0].get_title()
