"""Recipes for student submissions: the solution filled into the release, realistic mistakes
(mutants), and correct implementations that differ from the solution.

Each recipe edits one task's answer cell of a filled-in release notebook, the way a student's
saved notebook would look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from grader.course.notebook_cells import answer_cells
from unet_kit.assignment import SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def solution_answer(task: str) -> str:
    """The solution's answer to ``task`` as a student would have typed it (no nbgrader markers)."""
    return _without_markers(answer_cells(SOLUTION_NOTEBOOK)[task]).strip()


def filled_in(answers: dict[str, str] | None = None):
    """The release notebook with every stub replaced by the solution (or by ``answers[task]``)."""
    solutions = {task: solution_answer(task) for task in answer_cells(SOLUTION_NOTEBOOK)}
    solutions.update(answers or {})
    notebook = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        task = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[task].strip()
    return notebook


@dataclass(frozen=True)
class Mutant:
    """A mistake in one task, made by replacing text of the solution's answer cell."""

    name: str
    task: str
    replacements: tuple[tuple[str, str], ...]

    def answer(self) -> str:
        source = solution_answer(self.task)
        for old, new in self.replacements:
            assert old in source, f"mutant {self.name}: {old!r} is not in the solution of {self.task}"
            source = source.replace(old, new)
        return source

    def notebook(self):
        return filled_in({self.task: self.answer()})


TOP = "top = height // 2 - new_height // 2"
LEFT = "left = width // 2 - new_width // 2"
POOL = "nn.MaxPool2d(kernel_size=2, stride=2)"
UPSAMPLE = 'nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)'

MUTANTS = (
    Mutant("crop_off_by_one", "crop", ((TOP, TOP + " + 1"),)),
    Mutant("crop_halves_the_difference", "crop",
           ((TOP, "top = (height - new_height) // 2"), (LEFT, "left = (width - new_width) // 2"))),
    Mutant("crop_not_centred", "crop", ((TOP, "top = 0"), (LEFT, "left = 0"))),
    Mutant("crop_wrong_axes", "crop", (("new_shape[2], new_shape[3]", "new_shape[1], new_shape[2]"),)),
    Mutant("contracting_missing_relu", "contracting_block",
           (("x = self.activation(self.conv2(x))", "x = self.conv2(x)"),)),
    Mutant("contracting_pool_stride_1", "contracting_block", ((POOL, "nn.MaxPool2d(kernel_size=2, stride=1)"),)),
    Mutant("contracting_average_pool", "contracting_block", ((POOL, "nn.AvgPool2d(kernel_size=2, stride=2)"),)),
    Mutant("contracting_padded_convolutions", "contracting_block",
           (("kernel_size=3)", "kernel_size=3, padding=1)"),)),
    Mutant("contracting_doubles_in_the_second_conv", "contracting_block", (
        ("nn.Conv2d(input_channels, input_channels * 2, kernel_size=3)",
         "nn.Conv2d(input_channels, input_channels, kernel_size=3)"),
        ("nn.Conv2d(input_channels * 2, input_channels * 2, kernel_size=3)",
         "nn.Conv2d(input_channels, input_channels * 2, kernel_size=3)"),
    )),
    Mutant("contracting_batch_norm", "contracting_block", (
        ("self.activation = nn.ReLU()",
         "self.activation = nn.ReLU()\n        self.norm = nn.BatchNorm2d(input_channels * 2)"),
        ("x = self.activation(self.conv1(x))", "x = self.activation(self.norm(self.conv1(x)))"),
    )),
    Mutant("expanding_relu_after_2x2_conv", "expanding_block",
           (("x = self.conv1(self.upsample(x))", "x = self.activation(self.conv1(self.upsample(x)))"),)),
    Mutant("expanding_nearest_upsampling", "expanding_block",
           ((UPSAMPLE, 'nn.Upsample(scale_factor=2, mode="nearest")'),)),
    Mutant("expanding_align_corners_false", "expanding_block",
           (("align_corners=True", "align_corners=False"),)),
    Mutant("expanding_transposed_convolution", "expanding_block", (
        ("self.conv1 = nn.Conv2d(input_channels, input_channels // 2, kernel_size=2)",
         "self.conv1 = nn.ConvTranspose2d(input_channels, input_channels // 2, kernel_size=2, stride=2)"),
        ("x = self.conv1(self.upsample(x))", "x = self.conv1(x)"),
    )),
    Mutant("expanding_concat_order_swapped", "expanding_block",
           (("torch.cat([x, skip_con_x], dim=1)", "torch.cat([skip_con_x, x], dim=1)"),)),
    Mutant("expanding_crops_x_not_the_skip", "expanding_block",
           (("skip_con_x = crop(skip_con_x, x.shape)", "x = crop(x, skip_con_x.shape)"),)),
    Mutant("expanding_keeps_channels", "expanding_block", (
        ("self.conv3 = nn.Conv2d(input_channels // 2, input_channels // 2, kernel_size=3)",
         "self.conv3 = nn.Conv2d(input_channels // 2, input_channels, kernel_size=3)"),
    )),
    Mutant("feature_map_3x3_kernel", "feature_map_block", (("kernel_size=1", "kernel_size=3"),)),
    Mutant("feature_map_with_relu", "feature_map_block",
           (("return self.conv(x)", "return torch.relu(self.conv(x))"),)),
    Mutant("unet_skips_to_wrong_levels", "unet", (
        ("x7 = self.expand3(x6, x1)", "x7 = self.expand3(x6, x0)"),
        ("x8 = self.expand4(x7, x0)", "x8 = self.expand4(x7, x1)"),
    )),
    Mutant("unet_sigmoid_on_output", "unet",
           (("return self.downfeature(x8)", "return torch.sigmoid(self.downfeature(x8))"),)),
    Mutant("unet_ignores_hidden_channels", "unet", (
        ("self.upfeature = FeatureMapBlock(input_channels, hidden_channels)",
         "hidden_channels = 64\n        self.upfeature = FeatureMapBlock(input_channels, hidden_channels)"),
    )),
    Mutant("unet_skips_the_last_feature_map", "unet", (("return self.downfeature(x8)", "return x8"),)),
    Mutant("crop_python_round", "crop",
           ((TOP, "top = round((height - new_height) / 2)"), (LEFT, "left = round((width - new_width) / 2)"))),
    Mutant("crop_height_and_width_swapped", "crop", (("new_shape[2], new_shape[3]", "new_shape[3], new_shape[2]"),)),
    Mutant("contracting_missing_first_relu", "contracting_block",
           (("x = self.activation(self.conv1(x))", "x = self.conv1(x)"),)),
    Mutant("contracting_leaky_relu", "contracting_block", (("nn.ReLU()", "nn.LeakyReLU()"),)),
    Mutant("contracting_without_bias", "contracting_block", (("kernel_size=3)", "kernel_size=3, bias=False)"),)),
    Mutant("expanding_missing_last_relu", "expanding_block",
           (("return self.activation(self.conv3(x))", "return self.conv3(x)"),)),
    Mutant("expanding_skip_cropped_at_a_corner", "expanding_block",
           (("skip_con_x = crop(skip_con_x, x.shape)", "skip_con_x = skip_con_x[:, :, :x.shape[2], :x.shape[3]]"),)),
    Mutant("feature_map_padded_3x3_kernel", "feature_map_block", (("kernel_size=1", "kernel_size=3, padding=1"),)),
    Mutant("unet_relu_on_output", "unet", (("return self.downfeature(x8)", "return torch.relu(self.downfeature(x8))"),)),
)

#: The misconception grader.checking.diagnosis must name for each mutant (ids of grader.checking.misconceptions).
MISCONCEPTION_OF = {
    "crop_off_by_one": "crop.start_off_by_one",
    "crop_halves_the_difference": "crop.halves_the_difference",
    "crop_not_centred": "crop.top_left_window",
    "crop_wrong_axes": "crop.wrong_axes_of_new_shape",
    "crop_python_round": "crop.python_round",
    "crop_height_and_width_swapped": "crop.height_and_width_swapped",
    "contracting_missing_relu": "contracting_block.missing_second_relu",
    "contracting_missing_first_relu": "contracting_block.missing_first_relu",
    "contracting_leaky_relu": "contracting_block.other_activation",
    "contracting_pool_stride_1": "contracting_block.pool_stride_1",
    "contracting_average_pool": "contracting_block.average_pooling",
    "contracting_padded_convolutions": "contracting_block.padded_convolutions",
    "contracting_doubles_in_the_second_conv": "contracting_block.doubles_in_the_second_conv",
    "contracting_batch_norm": "contracting_block.normalisation_or_dropout",
    "contracting_without_bias": "contracting_block.convolutions_without_bias",
    "expanding_relu_after_2x2_conv": "expanding_block.relu_after_2x2_conv",
    "expanding_nearest_upsampling": "expanding_block.nearest_upsampling",
    "expanding_align_corners_false": "expanding_block.align_corners_false",
    "expanding_transposed_convolution": "expanding_block.transposed_convolution",
    "expanding_concat_order_swapped": "expanding_block.concatenation_order",
    "expanding_crops_x_not_the_skip": "expanding_block.crops_the_upsampled_map",
    "expanding_keeps_channels": "expanding_block.keeps_the_channels",
    "expanding_missing_last_relu": "expanding_block.missing_last_relu",
    "expanding_skip_cropped_at_a_corner": "expanding_block.skip_cropped_at_a_corner",
    "feature_map_3x3_kernel": "feature_map_block.three_by_three_kernel",
    "feature_map_padded_3x3_kernel": "feature_map_block.three_by_three_kernel",
    "feature_map_with_relu": "feature_map_block.activation_added",
    "unet_skips_to_wrong_levels": "unet.skips_at_wrong_levels",
    "unet_sigmoid_on_output": "unet.activation_on_output",
    "unet_relu_on_output": "unet.activation_on_output",
    "unet_ignores_hidden_channels": "unet.ignores_hidden_channels",
    "unet_skips_the_last_feature_map": "unet.missing_last_feature_map",
}

# Correct implementations that look nothing like the solution: full marks expected.
CORRECT_VARIANTS = {
    "crop_with_narrow": ("crop", '''
def crop(image, new_shape):
    """Centre crop with narrow()."""
    rows, columns = new_shape[-2], new_shape[-1]
    image = image.narrow(2, image.shape[2] // 2 - rows // 2, rows)
    return image.narrow(3, image.shape[3] // 2 - columns // 2, columns)
'''),
    "contracting_as_sequential": ("contracting_block", '''
class ContractingBlock(nn.Module):
    """As one nn.Sequential."""

    def __init__(self, input_channels: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(input_channels, 2 * input_channels, 3), nn.ReLU(inplace=True),
            nn.Conv2d(2 * input_channels, 2 * input_channels, 3), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )

    def forward(self, x):
        return self.layers(x)
'''),
    "expanding_functional_and_reordered": ("expanding_block", '''
class ExpandingBlock(nn.Module):
    """F.interpolate and F.relu, layers created last-first under other names."""

    def __init__(self, input_channels: int):
        super().__init__()
        half = input_channels // 2
        self.refine = nn.Conv2d(half, half, kernel_size=(3, 3))
        self.merge = nn.Conv2d(input_channels, half, kernel_size=(3, 3))
        self.halve = nn.Conv2d(input_channels, half, kernel_size=(2, 2))

    def forward(self, x, skip_con_x):
        x = self.halve(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True))
        x = torch.cat((x, crop(skip_con_x, x.shape)), 1)
        return F.relu(self.refine(F.relu(self.merge(x))))
'''),
    "feature_map_other_name": ("feature_map_block", '''
class FeatureMapBlock(nn.Module):
    """A pointwise convolution under another name."""

    def __init__(self, input_channels: int, output_channels: int):
        super().__init__()
        self.pointwise = nn.Conv2d(input_channels, output_channels, (1, 1), padding=0)

    def forward(self, x):
        return self.pointwise(x)
'''),
    "unet_with_module_lists": ("unet", '''
class UNet(nn.Module):
    """Blocks kept in lists and wired in loops."""

    def __init__(self, input_channels: int, output_channels: int, hidden_channels: int = 64):
        super().__init__()
        widths = [hidden_channels * 2**level for level in range(5)]
        self.first = FeatureMapBlock(input_channels, hidden_channels)
        self.down = nn.ModuleList(ContractingBlock(w) for w in widths[:4])
        self.up = nn.ModuleList(ExpandingBlock(w) for w in reversed(widths[1:]))
        self.last = FeatureMapBlock(hidden_channels, output_channels)

    def forward(self, x):
        features = [self.first(x)]
        for block in self.down:
            features.append(block(features[-1]))
        x = features.pop()
        for block in self.up:
            x = block(x, features.pop())
        return self.last(x)
'''),
}

# Mistakes of a family the diagnosis must name whatever their parameter: a LeakyReLU or ELU of any
# slope, a crop rule on one axis only or a different rule on each. Diagnosed in tests/test_diagnosis.py,
# not graded in the slow batch.
CONV1_WITH_RELU = "x = self.activation(self.conv1(x))"
CONV2_WITH_RELU = "x = self.activation(self.conv2(x))"

PARAMETER_VARIANTS = (
    Mutant("contracting_leaky_relu_slope_0_2", "contracting_block", (("nn.ReLU()", "nn.LeakyReLU(0.2)"),)),
    Mutant("contracting_leaky_relu_slope_0_05", "contracting_block",
           (("nn.ReLU()", "nn.LeakyReLU(negative_slope=0.05)"),)),
    Mutant("contracting_functional_leaky_relu_0_3", "contracting_block", (
        (CONV1_WITH_RELU, "x = F.leaky_relu(self.conv1(x), 0.3)"),
        (CONV2_WITH_RELU, "x = F.leaky_relu(self.conv2(x), 0.3)"),
    )),
    Mutant("contracting_elu_alpha_0_5", "contracting_block", (("nn.ReLU()", "nn.ELU(alpha=0.5)"),)),
    Mutant("crop_halves_the_difference_in_rows", "crop", ((TOP, "top = (height - new_height) // 2"),)),
    Mutant("crop_halves_the_difference_in_columns", "crop", ((LEFT, "left = (width - new_width) // 2"),)),
    Mutant("crop_top_left_in_rows", "crop", ((TOP, "top = 0"),)),
    Mutant("crop_top_left_in_columns", "crop", ((LEFT, "left = 0"),)),
    Mutant("crop_off_by_one_in_columns", "crop", ((LEFT, LEFT + " - 1"),)),
    Mutant("crop_off_by_one_on_both_axes", "crop", ((TOP, TOP + " - 1"), (LEFT, LEFT + " - 1"))),
    Mutant("crop_python_round_in_rows", "crop", ((TOP, "top = round((height - new_height) / 2)"),)),
    Mutant("crop_halves_in_rows_top_left_in_columns", "crop",
           ((TOP, "top = (height - new_height) // 2"), (LEFT, "left = 0"))),
    Mutant("crop_off_by_one_in_rows_python_round_in_columns", "crop",
           ((TOP, TOP + " + 1"), (LEFT, "left = round(width / 2 - new_width / 2)"))),
)

#: The misconceptions grader.checking.diagnosis must name for each parameter variant, in the catalogue's order.
PARAMETER_VARIANT_MISCONCEPTIONS = {
    "contracting_leaky_relu_slope_0_2": ("contracting_block.other_activation",),
    "contracting_leaky_relu_slope_0_05": ("contracting_block.other_activation",),
    "contracting_functional_leaky_relu_0_3": ("contracting_block.other_activation",),
    "contracting_elu_alpha_0_5": ("contracting_block.other_activation",),
    "crop_halves_the_difference_in_rows": ("crop.halves_the_difference",),
    "crop_halves_the_difference_in_columns": ("crop.halves_the_difference",),
    "crop_top_left_in_rows": ("crop.top_left_window",),
    "crop_top_left_in_columns": ("crop.top_left_window",),
    "crop_off_by_one_in_columns": ("crop.start_off_by_one",),
    "crop_off_by_one_on_both_axes": ("crop.start_off_by_one",),
    "crop_python_round_in_rows": ("crop.python_round",),
    "crop_halves_in_rows_top_left_in_columns": ("crop.top_left_window", "crop.halves_the_difference"),
    "crop_off_by_one_in_rows_python_round_in_columns": ("crop.start_off_by_one", "crop.python_round"),
}


def fits_template(text: str, template: str) -> bool:
    """Whether ``text`` contains a misconception paragraph ``template`` with its ``{name}`` blanks filled in."""
    pieces = [re.escape(" ".join(piece.split())) for piece in re.split(r"\{\w+\}", template.strip())]
    return re.search(r".+?".join(pieces), " ".join(text.split())) is not None
