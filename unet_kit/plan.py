"""How many steps to train and at what learning rate, when a budget is given in minutes.

A student's GPU may be a T4 or an H200, a laptop may have 2 cores or 16: a fixed step count
would take 40 minutes on one and 2 on another. A timed budget therefore measures the speed of
its first steps, plans as many steps as fit in its minutes (never more than the budget's
``steps``), moves the plan when the speed changes, and stops at the deadline whatever happens. The learning rate warms up over the
first steps and then follows half a cosine down to zero at the last planned step, so the last
weights are the best ones, not a draw from a noisy plateau.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from unet_kit.budgets import TrainingBudget
from unet_kit.device import synchronise

#: The clock starts after this many steps (the first ones allocate memory and pick kernels)...
MEASURED_FROM_STEP = 10
#: ... and the speed is read after this many, when the plan is made. Warmup lasts at least this long.
PLANNED_AT_STEP = 40
#: While training, the plan is checked every so many steps against the speed so far, and moved.
CHECKED_EVERY = 100


class TrainingPlan:
    """The steps of one training run: ``for step in plan.steps(progress): ...``.

    ``total_steps`` is the budget's ``steps`` until a timed plan has measured its speed, then the
    steps that fit in the budget's minutes. ``clock`` is injectable so the planning can be tested
    without waiting.
    """

    def __init__(self, budget: TrainingBudget, device: torch.device | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.budget = budget
        self.seconds = budget.minutes * 60 if budget.minutes else None
        self.total_steps = budget.steps
        self.warmup_steps = min(budget.warmup_steps, budget.steps // 5)
        if self.seconds is not None and budget.steps > PLANNED_AT_STEP:
            # the cosine must not start before the plan that shapes it is made
            self.warmup_steps = max(self.warmup_steps, PLANNED_AT_STEP)
        self.seconds_per_step: float | None = None
        self.stopped_at_deadline = False
        self.steps_done = 0
        self._device = device
        self._clock = clock
        self._started: float | None = None
        self._measuring_since: float | None = None
        self._paused_seconds = 0.0
        # The cosine's phase (0 at its top, 1 at zero) runs linearly from this anchor to the last step;
        # when the plan moves, the anchor moves to the current step, so the rate never jumps.
        self._anchor_step, self._anchor_phase = self.warmup_steps, 0.0

    def learning_rate(self, step: int) -> float:
        """The rate for ``step`` (from 0): linear warmup to the budget's rate, then a cosine to zero."""
        peak = self.budget.learning_rate
        if step < self.warmup_steps:
            return peak * (step + 1) / self.warmup_steps
        return peak * 0.5 * (1 + math.cos(math.pi * self._phase(step)))

    def _phase(self, step: int) -> float:
        remaining = max(1, self.total_steps - self._anchor_step)
        return min(1.0, self._anchor_phase + (1 - self._anchor_phase) * (step - self._anchor_step) / remaining)

    def _move_plan_to(self, total_steps: int, steps_done: int) -> None:
        """End the cosine at ``total_steps`` from here on, continuing from the phase it has reached."""
        if steps_done > self._anchor_step:
            self._anchor_step, self._anchor_phase = steps_done, self._phase(steps_done)
        self.total_steps = total_steps

    def elapsed(self) -> float:
        """Seconds of training so far, pauses left out."""
        if self._started is None:
            return 0.0
        return self._clock() - self._started - self._paused_seconds

    @contextmanager
    def paused(self):
        """Stop the clock while doing something that is not training (scoring, plotting)."""
        synchronise(self._device)
        paused_at = self._clock()
        try:
            yield
        finally:
            synchronise(self._device)
            self._paused_seconds += self._clock() - paused_at

    def steps(self, progress=None) -> Iterator[int]:
        """Yield step numbers from 0 until the plan is done or, for a timed plan, its time is up.

        ``progress`` (a tqdm bar, optional) advances once a step and learns the planned total.
        """
        self._started = self._clock()
        step = 0
        while step < self.total_steps:
            if self.seconds is not None and self.elapsed() >= self.seconds:
                self.stopped_at_deadline = True
                break
            yield step
            step += 1
            self.steps_done = step
            if progress is not None:
                progress.update(1)
            if self.seconds is not None:
                self._replan_after(step, progress)

    def _replan_after(self, steps_done: int, progress) -> None:
        if steps_done == MEASURED_FROM_STEP:
            synchronise(self._device)
            self._measuring_since = self.elapsed()
        elif self._measuring_since is not None and (
                steps_done == PLANNED_AT_STEP or steps_done % CHECKED_EVERY == 0):
            synchronise(self._device)
            now = self.elapsed()
            self.seconds_per_step = (now - self._measuring_since) / (steps_done - MEASURED_FROM_STEP)
            fitting = steps_done + int((self.seconds - now) / self.seconds_per_step)
            planned = max(steps_done, min(self.budget.steps, fitting))
            if steps_done == PLANNED_AT_STEP:
                # a short plan warms up for a fifth of it at most (and never less than it has warmed up)
                self.warmup_steps = min(self.warmup_steps, max(PLANNED_AT_STEP, planned // 5))
                self._anchor_step = self.warmup_steps
            self._move_plan_to(planned, steps_done)
            if progress is not None and progress.total != self.total_steps:
                progress.total = self.total_steps
                progress.refresh()

    def describe(self) -> str:
        """One line for the notebook: what was planned, why, and what happened."""
        done = f"trained {self.steps_done} steps in {self.elapsed() / 60:.1f} min"
        if self.seconds is None:
            return f"{done} (the {self.budget.name} budget's fixed {self.budget.steps} steps)"
        if self.seconds_per_step is None:
            return f"{done} (too few steps to measure the speed)"
        planned = (f"{self.budget.minutes:g} min at {self.seconds_per_step:.3f} s per step plan "
                   f"{self.total_steps} steps (at most {self.budget.steps})")
        ending = "; stopped at the deadline" if self.stopped_at_deadline else ""
        return f"{done}: {planned}{ending}"
