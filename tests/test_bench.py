"""The benchmark's pieces do what its tables claim; no figure here is timed or compared with a target."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from bench import report, training
from bench.grading_cost import perfect_submission
from grader.course.notebook_cells import answer_cells
from unet_kit.assignment import SOLUTION_NOTEBOOK, TASKS
from unet_kit.budgets import BUDGETS
from unet_kit.data import load_isbi2012
from unet_kit.plan import TrainingPlan
from unet_kit.weight_map import border_weights

TINY = dataclasses.replace(BUDGETS["smoke"], name="tiny", steps=4, tile_size=188, hidden_channels=2)


def test_perfect_submission_holds_every_solution_and_no_stub_or_marker():
    notebook = perfect_submission()
    answers = {cell.metadata.nbgrader.grade_id: cell.source for cell in notebook.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    assert sorted(answers) == sorted(answer_cells(SOLUTION_NOTEBOOK))  # the tasks and the written answers
    assert set(TASKS) <= set(answers)
    for task, source in answers.items():
        assert "NotImplementedError" not in source and "SOLUTION" not in source, task


@pytest.mark.slow
def test_training_checkpoints_score_the_validation_slices_as_steps_grow():
    model, history = training.train_and_score(TINY, load_isbi2012(), torch.device("cpu"), mixed_precision=False,
                                              channels_last=True, checkpoints=2, report=lambda line: None)
    assert [point.step for point in history] == [2, 4]
    assert history[0].training_seconds < history[1].training_seconds
    for point in history:
        scores = dataclasses.asdict(point.scores)
        assert all(math.isfinite(value) and value >= 0 for value in scores.values())
        assert scores["pixel_error"] <= 1 and scores["adapted_rand_error"] <= 1


def test_step_speed_table_states_the_ratio_to_the_ceiling():
    speed = {"variant": "fp32, contiguous", "images_per_second": 2.0, "flop_per_step": 5e10,
             "flop_per_second": 1e11, "seconds_per_step": 0.5, "ceiling": "fp32"}
    table = report.step_speed_table([speed], {"fp32": 2e11})
    assert table.splitlines()[-1] == "| fp32, contiguous | 2.00 | 50.0 | 100 | 200 (fp32) | 0.50 |"


def training_cell_source() -> str:
    """The solution notebook's training loop: the code cell that steps the optimizer through the scaler."""
    import nbformat

    from unet_kit.assignment import SOLUTION_NOTEBOOK

    (source,) = [cell.source for cell in nbformat.read(SOLUTION_NOTEBOOK, as_version=4).cells
                 if cell.cell_type == "code" and "scaler.step(optimizer)" in cell.source]
    return source


def notebook_cell_globals(trainer: training.Trainer, budget) -> dict:
    """What the notebook's training cell finds in the kernel, taken from a bench Trainer, with quiet stand-ins for display."""
    return {
        "torch": torch, "F": torch.nn.functional, "budget": budget, "model": trainer.model,
        "sampler": trainer.sampler, "optimizer": trainer.optimizer,
        "loss_function": trainer.loss_function, "scaler": trainer.scaler,
        "precision": trainer.precision, "device": torch.device("cpu"), "crop": trainer.crop,
        "TrainingPlan": TrainingPlan, "progress_bar": lambda **options: _QuietBar(),
        "plot_training_curve": lambda losses, learning_rates, validation_losses: None,
        "ValidationSnapshots": _NoSnapshots, "validation_images": [None], "validation_labels": [None],
        "border_weights": border_weights,
    }


def test_the_benchmarks_training_step_is_the_notebooks_training_loop():
    """Two steps of the notebook's own training cell and two of bench's Trainer, from the same
    model, tiles and optimizer state, end at the same weights (the learning rate's schedule included)."""
    device, isbi = torch.device("cpu"), load_isbi2012()
    two_steps = dataclasses.replace(TINY, steps=2)
    trainers = [training.Trainer(training.build_model(two_steps, device, channels_last=True), two_steps, isbi,
                                 device, mixed_precision=False) for _ in range(2)]
    bench_trainer, notebook_trainer = trainers
    notebook_trainer.model.load_state_dict(bench_trainer.model.state_dict())
    for _ in range(2):
        bench_trainer.step()
    cell_globals = notebook_cell_globals(notebook_trainer, two_steps)
    exec(compile(training_cell_source(), "training cell", "exec"), cell_globals)
    for (name, expected), actual in zip(bench_trainer.model.state_dict().items(),
                                        notebook_trainer.model.state_dict().values()):
        assert torch.equal(expected, actual), name


def test_the_training_cell_with_the_papers_weights_switched_on_trains_otherwise():
    device, isbi = torch.device("cpu"), load_isbi2012()
    two_steps = dataclasses.replace(TINY, steps=2)
    plain, weighted = [training.Trainer(training.build_model(two_steps, device, channels_last=True), two_steps, isbi,
                                        device, mixed_precision=False) for _ in range(2)]
    weighted.model.load_state_dict(plain.model.state_dict())
    runs = []
    for trainer, switch in ((plain, "False"), (weighted, "True")):
        source = training_cell_source().replace("BORDER_WEIGHTS = False", f"BORDER_WEIGHTS = {switch}")
        cell_globals = notebook_cell_globals(trainer, two_steps)
        exec(compile(source, "training cell", "exec"), cell_globals)
        runs.append(torch.stack(cell_globals["losses"]))
    assert torch.isfinite(runs[1]).all()
    # The map averages about 3 (the classes balanced to 1, plus the borders' term): the loss grows with it.
    assert runs[1].mean() > 1.5 * runs[0].mean(), runs


class _NoSnapshots:
    """Stands in for the notebook's validation snapshots, which predict in eval mode and change no weight."""

    def __init__(self, image, label, tile_size, device):
        self.losses = {}

    def take(self, model, steps_done):
        self.losses[steps_done] = 0.0


class _QuietBar:
    """A silent stand-in for the notebook's progress bar."""

    total = 0

    def update(self, steps):
        pass

    def refresh(self):
        pass

    def set_postfix(self, **values):
        pass

    def close(self):
        pass


def test_the_meta_device_counts_a_steps_flops_as_a_real_step_does():
    """The T4 plan counts FLOPs on shapes alone; a real forward and backward on the CPU counts the same."""
    from torch.utils.flop_counter import FlopCounterMode

    from bench.gpu_plans import training_step_flop

    model = training.notebook_code()["UNet"](input_channels=1, output_channels=1, hidden_channels=TINY.hidden_channels)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(TINY.batch_size, 1, TINY.tile_size, TINY.tile_size)).float().mean().backward()
    assert training_step_flop(TINY) == counter.get_total_flops() > 0


def test_a_gpu_plan_is_what_the_notebooks_planner_makes_of_the_step_time():
    # 10 minutes at 0.42 s a step: 40 steps take 16.8 s, the 583.2 s left fit 1388 more
    from bench.gpu_plans import planned_steps

    assert planned_steps(BUDGETS["full"], 0.42) == 40 + 1388
    assert planned_steps(BUDGETS["full"], 0.001) == BUDGETS["full"].steps  # the cap


COURSE_TOOLING = ("nbformat", "nbgrader", "nbclient", "papermill", "dask", "distributed", "sqlalchemy", "psycopg")


def test_the_training_benchmarks_run_where_only_torch_and_the_kits_needs_are_installed():
    """A lent GPU machine has torch, scikit-image, tifffile, matplotlib and tqdm, not the course's tooling:
    with those imports refused, bench still loads and builds the notebook's U-Net."""
    import subprocess
    import sys

    from unet_kit.assignment import REPOSITORY_ROOT

    program = f"""
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {COURSE_TOOLING!r}:
            raise ImportError("not installed on the GPU machine: " + name)
sys.meta_path.insert(0, Refuse())
import bench.__main__, bench.gpu_plans, bench.throughput
from bench.training import notebook_code
print(type(notebook_code()["UNet"](1, 1, 2)).__name__)
"""
    finished = subprocess.run([sys.executable, "-c", program], cwd=REPOSITORY_ROOT, capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "UNet"
