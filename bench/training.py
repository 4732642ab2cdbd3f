"""Train the notebook's own U-Net under a budget, scoring the held-out slices as training goes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from grader.course.notebook_cells import task_namespace
from unet_kit.assignment import SOLUTION_NOTEBOOK
from unet_kit.budgets import TrainingBudget
from unet_kit.challenge import ChallengeScores, challenge_scores
from unet_kit.data import Isbi2012
from unet_kit.device import FULL_PRECISION, choose_precision
from unet_kit.metrics import SegmentationScores, segmentation_scores
from unet_kit.plan import TrainingPlan
from unet_kit.tiles import TileSampler, output_size, predict_full_slices

TRAINING_SLICES = slice(0, 25)
VALIDATION_SLICES = slice(25, 30)


@dataclass(frozen=True)
class Checkpoint:
    """Validation scores after ``step`` steps and ``training_seconds`` of training (scoring excluded):
    at threshold 0.5 (``scores``) and as the challenge computed them (``challenge``).

    ``processor_share`` is the process's CPU time over wall time and threads while training: near 1
    on an otherwise idle CPU run, lower when other work shared the cores (or on a GPU run).
    """

    step: int
    training_seconds: float
    processor_share: float
    scores: SegmentationScores
    challenge: ChallengeScores

    def as_dict(self) -> dict:
        challenge = {f"challenge_{name}": value for name, value in asdict(self.challenge).items()}
        return {"step": self.step, "training_seconds": self.training_seconds,
                "processor_share": self.processor_share, **asdict(self.scores), **challenge}


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
    """One training step of the notebook's loop: the plan's learning rate, sample, forward (in the
    precision the GPU wants, when mixed), BCE on the cropped label, Adam through the loss scaler."""

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
        self.plan = TrainingPlan(budget, device)
        self.steps_done = 0

    def step(self) -> torch.Tensor:
        """One optimisation step; returns the loss as a tensor, so a GPU never waits for the host."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.plan.learning_rate(self.steps_done)
        self.steps_done += 1
        images, membranes = self.sampler.batch(self.budget.batch_size)
        with torch.autocast(self.device.type, dtype=self.precision.autocast_dtype, enabled=self.precision.mixed):
            logits = self.model(images)
        loss = self.loss_function(logits.float(), self.crop(membranes, logits.shape))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()


def score_validation(model: nn.Module, budget: TrainingBudget, isbi: Isbi2012, device: torch.device,
                     mixed_precision: bool) -> tuple[SegmentationScores, ChallengeScores]:
    """Scores of the five held-out slices, predicted whole by overlap-tile: at threshold 0.5, and the challenge's."""
    precision = choose_precision(device) if mixed_precision else FULL_PRECISION
    probability = predict_full_slices(model, isbi.train_images[VALIDATION_SLICES], budget.prediction_tile_size,
                                      device, mixed_precision=precision.mixed, autocast_dtype=precision.autocast_dtype,
                                      test_time_augmentation=budget.test_time_augmentation)
    labels = isbi.train_labels[VALIDATION_SLICES]
    return segmentation_scores(probability, labels), challenge_scores(probability, labels)


def print_now(line: str) -> None:
    print(line, flush=True)


def train_and_score(budget: TrainingBudget, isbi: Isbi2012, device: torch.device, *, mixed_precision: bool,
                    channels_last: bool, checkpoints: int = 8, report=print_now) -> tuple[nn.Module, list[Checkpoint]]:
    """Train as the notebook does (a timed budget plans its steps from its speed) and score the
    validation slices ``checkpoints`` times along the way, evenly over the planned steps and at the end.

    The clocks count training only: the plan's deadline and the figures stop while scoring.
    """
    model = build_model(budget, device, channels_last)
    trainer = Trainer(model, budget, isbi, device, mixed_precision)
    plan = trainer.plan
    history: list[Checkpoint] = []
    losses: list[torch.Tensor] = []
    processor_seconds, processor_since = 0.0, time.process_time()

    def score_now(steps_done: int) -> None:
        nonlocal processor_seconds, processor_since
        with plan.paused():
            processor_seconds += time.process_time() - processor_since
            training_seconds = plan.elapsed()
            processor_share = processor_seconds / training_seconds / torch.get_num_threads()
            scores, challenge = score_validation(model, budget, isbi, device, mixed_precision)
            history.append(Checkpoint(steps_done, training_seconds, processor_share, scores, challenge))
            mean_loss = torch.stack(losses).mean().item() if losses else float("nan")
            losses.clear()
            report(f"  step {steps_done:5d}/{plan.total_steps}  {training_seconds / 60:6.2f} min  "
                   f"lr {plan.learning_rate(steps_done - 1):.2e}  loss {mean_loss:.3f}  "
                   f"pixel error {scores.pixel_error:.4f}  adapted Rand {scores.adapted_rand_error:.4f}  "
                   f"VI split {scores.split_variation_of_information:.3f} merge {scores.merge_variation_of_information:.3f}  "
                   f"V_Rand {challenge.v_rand:.4f}  V_Info {challenge.v_info:.4f}  "
                   f"challenge pixel error {challenge.pixel_error:.4f}  processor share {processor_share:.2f}")
            processor_since = time.process_time()

    for index in plan.steps():
        losses.append(trainer.step())
        steps_done = index + 1
        if steps_done >= plan.total_steps * min(1, (len(history) + 1) / checkpoints):
            score_now(steps_done)
    if not history or history[-1].step != plan.steps_done:  # stopped at the deadline between checkpoints
        score_now(plan.steps_done)
    report(f"  {plan.describe()}")
    return model, history
