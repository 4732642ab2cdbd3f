"""A timed budget plans its steps from the speed it measures, keeps its deadline, and shapes the
learning rate over the steps it planned. A stepped clock advances by a set time per step, so
these tests run in milliseconds and every figure below can be worked out by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bench.gpu_plans import SteppedClock
from unet_kit.budgets import BUDGETS, TrainingBudget
from unet_kit.plan import CHECKED_EVERY, MEASURED_FROM_STEP, PLANNED_AT_STEP, TrainingPlan

ONE_MINUTE = TrainingBudget("one minute", steps=1000, batch_size=1, tile_size=188, hidden_channels=2,
                            learning_rate=1e-3, minutes=1, warmup_steps=50)


class RecordingBar:
    def __init__(self):
        self.total, self.updates = None, 0

    def update(self, steps):
        self.updates += steps

    def refresh(self):
        pass


def run(plan: TrainingPlan, clock: SteppedClock, seconds_per_step, progress=None) -> list[float]:
    """Train with ``plan``; ``seconds_per_step(step)`` is how long each step takes. Returns the rates used."""
    rates = []
    for step in plan.steps(progress):
        rates.append(plan.learning_rate(step))
        clock.now += seconds_per_step(step)
    return rates


def test_a_fixed_budget_takes_its_steps_warming_up_then_decaying_along_a_cosine():
    # warmup is the budget's 100 steps here, but never more than a fifth of a fixed budget
    budget = dataclasses.replace(ONE_MINUTE, minutes=None, steps=500, warmup_steps=100)
    plan = TrainingPlan(budget)
    assert TrainingPlan(dataclasses.replace(budget, steps=300)).warmup_steps == 60
    rates = run(plan, SteppedClock(), lambda step: 1.0)
    assert len(rates) == 500 and plan.steps_done == 500
    peak = budget.learning_rate
    assert rates[0] == pytest.approx(peak / 100) and rates[99] == pytest.approx(peak)
    assert rates[100] == pytest.approx(peak)  # the cosine starts at the peak ...
    assert rates[300] == pytest.approx(peak / 2)  # ... is half way down half way through the decay ...
    assert rates[-1] == pytest.approx(peak * 0.5 * (1 + math.cos(math.pi * 399 / 400)))  # ... ends near 0 ...
    assert all(later <= earlier for earlier, later in zip(rates[100:], rates[101:]))  # ... and never rises


def test_a_timed_budget_plans_the_steps_that_fit_its_minutes():
    # 0.5 s a step: the speed read between steps 10 and 40 (15 s for 30 steps) leaves 40 s after step
    # 40, room for 80 more steps: 120 in all, ending exactly at the minute.
    clock, bar = SteppedClock(), RecordingBar()
    plan = TrainingPlan(ONE_MINUTE, clock=clock)
    assert plan.total_steps == ONE_MINUTE.steps  # the cap, until the speed is known
    rates = run(plan, clock, lambda step: 0.5, bar)
    assert plan.seconds_per_step == pytest.approx(0.5)
    # 120 steps are short: warmup takes 40 of them (not the budget's 50), and the rate ends near 0
    assert plan.warmup_steps == PLANNED_AT_STEP and rates[-1] < ONE_MINUTE.learning_rate / 1000
    assert plan.total_steps == plan.steps_done == 120 == bar.total == bar.updates
    assert plan.elapsed() == pytest.approx(60.0) and not plan.stopped_at_deadline
    assert "1 min at 0.500 s per step plan 120 steps (at most 1000)" in plan.describe()


def test_a_fast_machine_stops_at_the_budgets_step_cap():
    clock = SteppedClock()
    plan = TrainingPlan(ONE_MINUTE, clock=clock)
    run(plan, clock, lambda step: 0.001)
    assert plan.steps_done == ONE_MINUTE.steps and plan.elapsed() < 60


def test_a_slowdown_shortens_the_plan():
    # 0.5 s a step plans 120 steps; from step 60 every step takes 0.5625 s. At the check after step
    # 100, 52.5 s have passed, 0.5278 s a step on average since step 10: the 7.5 s left fit 14 more
    # steps, so the plan shrinks to 114 and the cosine ends there.
    clock = SteppedClock()
    plan = TrainingPlan(ONE_MINUTE, clock=clock)
    rates = run(plan, clock, lambda step: 0.5 if step < 60 else 0.5625)
    assert plan.total_steps == plan.steps_done == 114 and not plan.stopped_at_deadline
    assert plan.elapsed() < 60 + 0.5625  # at most one step past the minute
    decaying = rates[plan.warmup_steps:]
    assert all(later <= earlier for earlier, later in zip(decaying, decaying[1:]))


def test_a_speedup_lengthens_the_plan_until_the_time_is_used():
    # Two minutes; 0.5 s a step plans 240 steps at step 40. From step 60 every step takes 0.25 s:
    # each check after that plans more steps (305, 374, 402, 417) as the mean speed catches up, and
    # training ends within a step of the two minutes. The cosine stretches, but never rises.
    clock = SteppedClock()
    plan = TrainingPlan(dataclasses.replace(ONE_MINUTE, minutes=2), clock=clock)
    rates = run(plan, clock, lambda step: 0.5 if step < 60 else 0.25)
    assert 410 <= plan.steps_done == plan.total_steps <= 420
    assert 120 - 1 < plan.elapsed() <= 120
    decaying = rates[plan.warmup_steps:]
    assert all(later <= earlier for earlier, later in zip(decaying, decaying[1:]))
    assert rates[-1] < ONE_MINUTE.learning_rate / 1000


def test_the_deadline_ends_training_whatever_the_plan():
    # From step 60 every step takes 2 s: the minute is up after step 75, long before the next check.
    clock = SteppedClock()
    plan = TrainingPlan(ONE_MINUTE, clock=clock)
    run(plan, clock, lambda step: 0.5 if step < 60 else 2.0)
    assert plan.steps_done == 75 and plan.stopped_at_deadline and plan.elapsed() == pytest.approx(60.0)
    assert "stopped at the deadline" in plan.describe()


def test_a_deadline_alone_ends_training_when_the_speed_was_never_measured():
    budget = dataclasses.replace(ONE_MINUTE, steps=PLANNED_AT_STEP - 1)  # too few steps to plan
    clock = SteppedClock()
    plan = TrainingPlan(budget, clock=clock)
    run(plan, clock, lambda step: 10.0)
    assert plan.steps_done == 6 and plan.stopped_at_deadline
    assert "too few steps to measure" in plan.describe()


def test_time_spent_paused_is_not_training_time():
    clock = SteppedClock()
    plan = TrainingPlan(ONE_MINUTE, clock=clock)
    for step in plan.steps():
        clock.now += 0.5
        if step == 70:
            with plan.paused():
                clock.now += 1000  # scoring the validation slices, say
    assert plan.steps_done == 120 and plan.elapsed() == pytest.approx(60.0)


def test_a_timed_plan_warms_up_at_least_until_it_has_planned():
    # The cosine's length is the plan's; it must not start before the plan is made.
    plan = TrainingPlan(dataclasses.replace(ONE_MINUTE, warmup_steps=5))
    assert plan.warmup_steps == PLANNED_AT_STEP
    assert MEASURED_FROM_STEP < PLANNED_AT_STEP < CHECKED_EVERY


@pytest.mark.parametrize("name", ["full", "cpu"])
def test_the_gpu_and_cpu_budgets_are_timed_and_smoke_is_fixed(name):
    assert BUDGETS[name].minutes is not None and BUDGETS[name].warmup_steps >= PLANNED_AT_STEP
    assert BUDGETS["smoke"].minutes is None and BUDGETS["grading"].steps == 0
