"""Run every benchmark and print its tables: ``python -m bench`` (``--help`` for the knobs).

1. Training step: images/s and counted FLOP/s of the budget's training step next to a large
   matmul timed in the same run, per precision and memory layout; and the steps the full
   budget would plan on a T4, from its FLOP count and the card's published fp16 rate.
2. Time to quality: the budget trained as the notebook trains it (a timed budget plans its steps
   from its measured speed), validation slices 25-29 scored whole along the way, at threshold
   0.5 and as the challenge scored them; the test volume's membrane probabilities are saved as
   a float32 TIFF stack.
3. Grading cost: ``python -m grader autograde`` on 1, 10 and 50 perfect submissions.
4. Scale: submissions per minute on the local pool and on a Dask cluster of 1 and 2 workers,
   and the class gradebook's cost per student in SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from bench import gpu_plans, report, throughput, training
from unet_kit.budgets import BUDGETS
from unet_kit.data import load_isbi2012
from unet_kit.device import FULL_PRECISION, choose_device, choose_precision, describe, usable_cores
from unet_kit.export import DEFAULT_OUTPUT_DIR, save_membrane_probabilities
from unet_kit.tiles import predict_full_slices

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", choices=sorted(BUDGETS), default=None,
                        help="budget to train (default: full on a GPU, cpu otherwise)")
    parser.add_argument("--checkpoints", type=int, default=8, help="times the validation slices are scored")
    parser.add_argument("--minutes", type=float, default=None,
                        help="train a timed budget for this long instead of its own minutes")
    parser.add_argument("--timed-steps", type=int, default=None, help="training steps timed per variant")
    parser.add_argument("--grading-counts", type=int, nargs="*", default=[1, 10, 50],
                        help="submission counts to grade (none to skip)")
    parser.add_argument("--grading-timeout", type=float, default=1800, help="seconds allowed per autograde run")
    parser.add_argument("--scale-count", type=int, default=8, help="submissions graded per scale run")
    parser.add_argument("--gradebook-students", type=int, default=50, help="students recorded per gradebook run")
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "quality", "grading", "scale"])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    return parser.parse_args()


def step_variants(device: torch.device) -> list[tuple[bool, bool]]:
    """(mixed precision, channels-last) pairs worth comparing on ``device``."""
    if device.type == "cuda":
        return [(False, False), (True, False), (True, True)]
    return [(False, False), (False, True)]


def measure_speed(budget, isbi, device, timed_steps: int) -> dict:
    ceilings = {"fp32": throughput.matmul_ceiling(device, torch.float32)}
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # an fp32 ceiling in true fp32, like the fp32 step
        ceilings["bf16"] = throughput.matmul_ceiling(device, torch.bfloat16)
    speeds = []
    for mixed_precision, channels_last in step_variants(device):
        speed = throughput.training_step_speed(budget, isbi, device, mixed_precision=mixed_precision,
                                               channels_last=channels_last, timed_steps=timed_steps)
        speeds.append({**dataclasses.asdict(speed), "ceiling": "bf16" if mixed_precision else "fp32"})
        print(f"  {speed.variant}: {speed.seconds_per_step * 1000:.1f} ms per step", flush=True)
    return {"ceilings": ceilings, "speeds": speeds}


def measure_quality(budget, isbi, device, checkpoints: int) -> dict:
    mixed_precision = budget.mixed_precision and device.type == "cuda"
    model, history = training.train_and_score(budget, isbi, device, mixed_precision=mixed_precision,
                                              channels_last=True, checkpoints=checkpoints)
    precision = choose_precision(device) if mixed_precision else FULL_PRECISION
    test_probability = predict_full_slices(model, isbi.test_images, budget.prediction_tile_size, device,
                                           mixed_precision=precision.mixed, autocast_dtype=precision.autocast_dtype,
                                           test_time_augmentation=budget.test_time_augmentation)
    exported = save_membrane_probabilities(
        test_probability, DEFAULT_OUTPUT_DIR / f"test-volume-membrane-probability-{budget.name}.tif")
    return {"history": [point.as_dict() for point in history], "exported": str(exported)}


def main() -> None:
    arguments = parse_arguments()
    device = choose_device()
    budget = BUDGETS[arguments.budget or ("full" if device.type == "cuda" else "cpu")]
    if arguments.minutes is not None:
        budget = dataclasses.replace(budget, minutes=arguments.minutes)
    device_name = describe(device)
    isbi = load_isbi2012()
    arguments.results.mkdir(parents=True, exist_ok=True)
    tag = f"{device.type}-{budget.name}"
    printed = [f"# Benchmarks on {device_name}, {budget.name} budget "
               f"(width {budget.hidden_channels}, tile {budget.tile_size}, batch {budget.batch_size}, "
               + (f"{budget.minutes:g} minutes, at most {budget.steps} steps)" if budget.minutes
                  else f"{budget.steps} steps)")]

    if "speed" not in arguments.skip:
        print("timing the training step and the matmul ceiling ...", flush=True)
        timed_steps = arguments.timed_steps or (30 if device.type == "cuda" else 8)
        speed = measure_speed(budget, isbi, device, timed_steps)
        (arguments.results / f"speed-{tag}.json").write_text(json.dumps({"device": device_name, **speed}, indent=1))
        printed += ["", "## Training step", "", report.step_speed_table(speed["speeds"], speed["ceilings"]),
                    "", "## The full budget's plan on Colab's T4 (computed, not measured)", "",
                    gpu_plans.t4_plan_table(BUDGETS["full"])]

    if "quality" not in arguments.skip:
        print(f"training the {budget.name} budget, scoring slices 25-29 {arguments.checkpoints} times ...", flush=True)
        quality = measure_quality(budget, isbi, device, arguments.checkpoints)
        run = {"device": device_name, "budget": budget.name, **quality}
        (arguments.results / f"time-to-quality-{tag}.json").write_text(json.dumps(run, indent=1))
        plot = report.plot_time_to_quality(arguments.results)
        printed += ["", "## Time to quality (validation slices 25-29, whole slices; threshold 0.5, and the challenge's best)", "",
                    report.time_to_quality_table(quality["history"]), "",
                    f"plot: {plot}", f"test-volume membrane probabilities: {quality['exported']}"]

    if "grading" not in arguments.skip and arguments.grading_counts:
        from bench import grading_cost  # nbgrader's side: not needed to time training on a bare GPU machine

        workers = usable_cores()
        costs = []
        for count in arguments.grading_counts:
            print(f"grading {count} submission(s) with {workers} workers ...", flush=True)
            cost = grading_cost.time_autograde(count, workers, arguments.grading_timeout)
            if cost.failure:
                print(f"  autograde failed: {cost.failure}", flush=True)
            costs.append(dataclasses.asdict(cost))
        (arguments.results / f"grading-{device.type}.json").write_text(json.dumps(costs, indent=1))
        printed += ["", f"## Grading cost (python -m grader autograde, {workers} workers)", "",
                    report.grading_table(costs)]

    if "scale" not in arguments.skip:
        from bench import scale

        print(f"grading {arguments.scale_count} submissions here and on Dask clusters ...", flush=True)
        rows = scale.grading_throughput(arguments.scale_count, arguments.grading_timeout)
        costs = scale.gradebook_cost(arguments.gradebook_students)
        (arguments.results / f"scale-{device.type}.json").write_text(
            json.dumps({"throughput": rows, "gradebook_seconds_per_student": costs}, indent=1))
        printed += ["", "## Scale (python -m grader autograde, here and through Dask)", "",
                    scale.throughput_table(rows), "", scale.gradebook_table(costs, arguments.gradebook_students)]

    print("\n".join(printed))


if __name__ == "__main__":
    main()
