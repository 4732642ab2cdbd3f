"""Train the notebook's own U-Net under a budget, scoring the held-out slices as training goes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from grader.notebook_cells import task_namespace
from unet_kit.assignment import SOLUTION_NOTEBOOK
from unet_kit.budgets import TrainingBudget
from unet_kit.data import Isbi2012
from unet_kit.device import FULL_PRECISION, choose_precision
from unet_kit.metrics import SegmentationScores, segmentation_scores
from unet_kit.tiles import TileSampler, output_size, predict_full_slices

TRAINING_SLICES = slice(0, 25)
VALIDATION_SLICES = slice(25, 30)


@dataclass(frozen=True)
class Checkpoint:
    """Validation scores after ``step`` steps and ``training_seconds`` of training (scoring excluded).

    ``processor_share`` is the process's CPU time over wall time and threads while training: near 1
    on an otherwise idle CPU run, lower when other work shared the cores (or on a GPU run).
    """

    step: int
    training_seconds: float
    processor_share: float
    scores: SegmentationScores

    def as_dict(self) -> dict:
        return {"step": self.step, "training_seconds": self.training_seconds,
                "processor_share": self.processor_share, **asdict(self.scores)}


def notebook_code() -> dict:
    """``UNet``, ``crop`` and the blocks, executed from the solution notebook's answer cells."""
    return task_namespace(SOLUTION_NOTEBOOK)


def initialise_like_the_paper(module: nn.Module) -> None:
    """He-normal convolution weights and zero biases, as the notebook's training cell does."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def build_model(budget: TrainingBudget, device: torch.device, channels_last: bool, seed: int = 0) -> nn.Module:
    """The budget's U-Net, initialised like the paper, on ``device``."""
    torch.manual_seed(seed)
    model = notebook_code()["UNet"](input_channels=1, output_channels=1, hidden_channels=budget.hidden_channels)
    model = model.apply(initialise_like_the_paper).to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


class Trainer:
    """One training step of the notebook's loop: sample, forward (in the precision the GPU wants, when
    mixed), BCE on the cropped label, Adam through the loss scaler."""

    def __init__(self, model: nn.Module, budget: TrainingBudget, isbi: Isbi2012, device: torch.device,
                 mixed_precision: bool, seed: int = 0):
        self.model, self.budget, self.device = model, budget, device
        self.precision = choose_precision(device) if mixed_precision else FULL_PRECISION
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.precision.scales_loss)
        self.crop = notebook_code()["crop"]
        margin = budget.tile_size - output_size(model, budget.tile_size, device)
        self.sampler = TileSampler(isbi.train_images[TRAINING_SLICES], isbi.train_labels[TRAINING_SLICES],
                                   tile_size=budget.tile_size, margin=margin, device=device,
                                   elastic=budget.elastic_deformation, seed=seed)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=budget.learning_rate)
        self.loss_function = nn.BCEWithLogitsLoss()

    def step(self) -> torch.Tensor:
        """One optimisation step; returns the loss as a tensor, so a GPU never waits for the host."""
        images, membranes = self.sampler.batch(self.budget.batch_size)
        with torch.autocast(self.device.type, dtype=self.precision.autocast_dtype, enabled=self.precision.mixed):
            logits = self.model(images)
        loss = self.loss_function(logits.float(), self.crop(membranes, logits.shape))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()


def synchronise(device: torch.device) -> None:
    """Wait for queued device work, so that host clocks measure it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def score_validation(model: nn.Module, budget: TrainingBudget, isbi: Isbi2012, device: torch.device,
                     mixed_precision: bool) -> SegmentationScores:
    """Challenge scores of the five held-out slices, predicted whole by overlap-tile."""
    precision = choose_precision(device) if mixed_precision else FULL_PRECISION
    probability = predict_full_slices(model, isbi.train_images[VALIDATION_SLICES], budget.prediction_tile_size,
                                      device, mixed_precision=precision.mixed, autocast_dtype=precision.autocast_dtype,
                                      test_time_augmentation=budget.test_time_augmentation)
    return segmentation_scores(probability, isbi.train_labels[VALIDATION_SLICES])


def print_now(line: str) -> None:
    print(line, flush=True)


def train_and_score(budget: TrainingBudget, isbi: Isbi2012, device: torch.device, *, mixed_precision: bool,
                    channels_last: bool, checkpoints: int = 8, report=print_now) -> tuple[nn.Module, list[Checkpoint]]:
    """Train for ``budget.steps`` steps and score the validation slices ``checkpoints`` times along the way.

    The clock counts training only: it stops while the validation slices are scored.
    """
    model = build_model(budget, device, channels_last)
    trainer = Trainer(model, budget, isbi, device, mixed_precision)
    scored_steps = {round(budget.steps * (index + 1) / checkpoints) for index in range(checkpoints)}
    history: list[Checkpoint] = []
    training_seconds = processor_seconds = 0.0
    losses: list[torch.Tensor] = []
    started, processor_started = time.perf_counter(), time.process_time()
    for step in range(1, budget.steps + 1):
        losses.append(trainer.step())
        if step in scored_steps:
            synchronise(device)
            training_seconds += time.perf_counter() - started
            processor_seconds += time.process_time() - processor_started
            processor_share = processor_seconds / training_seconds / torch.get_num_threads()
            scores = score_validation(model, budget, isbi, device, mixed_precision)
            history.append(Checkpoint(step, training_seconds, processor_share, scores))
            mean_loss = torch.stack(losses).mean().item()
            losses.clear()
            report(f"  step {step:5d}  {training_seconds / 60:6.2f} min  loss {mean_loss:.3f}  "
                   f"pixel error {scores.pixel_error:.4f}  adapted Rand {scores.adapted_rand_error:.4f}  "
                   f"VI split {scores.split_variation_of_information:.3f} merge {scores.merge_variation_of_information:.3f}  "
                   f"processor share {processor_share:.2f}")
            started, processor_started = time.perf_counter(), time.process_time()
    return model, history
