"""Print the benchmark's tables in Markdown and draw validation scores against training time."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the benchmark runs headless
import matplotlib.pyplot as plt  # noqa: E402

GIGA = 1e9
PLOTTED_SCORES = (("pixel_error", "pixel error (threshold 0.5)"),
                  ("adapted_rand_error", "adapted Rand error (threshold 0.5)"),
                  ("challenge_v_rand", "V_Rand (challenge, best threshold)"))


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def step_speed_table(speeds: list[dict], ceilings: dict[str, float]) -> str:
    rows = []
    for speed in speeds:
        ceiling = ceilings[speed["ceiling"]]
        rows.append([speed["variant"], f"{speed['images_per_second']:.2f}", f"{speed['flop_per_step'] / GIGA:.1f}",
                     f"{speed['flop_per_second'] / GIGA:.0f}", f"{ceiling / GIGA:.0f} ({speed['ceiling']})",
                     f"{speed['flop_per_second'] / ceiling:.2f}"])
    return markdown_table(["training step", "images/s", "GFLOP per step", "achieved GFLOP/s",
                           "matmul ceiling GFLOP/s", "ratio"], rows)


def time_to_quality_table(history: list[dict]) -> str:
    """Scores against wall-clock training minutes; a processor share under 1 means the cores were shared,
    and processor minutes per thread then estimate the time on cores of one's own. Runs saved before the
    challenge's scores existed show a dash for them."""

    def challenge(point: dict, name: str) -> str:
        value = point.get(f"challenge_{name}")
        return "-" if value is None else f"{value:.4f}"

    rows = [[str(point["step"]), f"{point['training_seconds'] / 60:.2f}", f"{point['pixel_error']:.4f}",
             f"{point['adapted_rand_error']:.4f}", f"{point['split_variation_of_information']:.3f}",
             f"{point['merge_variation_of_information']:.3f}", challenge(point, "v_rand"), challenge(point, "v_info"),
             challenge(point, "pixel_error"), f"{point['processor_share']:.2f}",
             f"{point['training_seconds'] * point['processor_share'] / 60:.2f}"] for point in history]
    return markdown_table(["step", "training minutes", "pixel error", "adapted Rand error", "VI split", "VI merge",
                           "V_Rand", "V_Info", "challenge pixel error", "processor share",
                           "processor minutes per thread"], rows)


def grading_table(costs: list[dict]) -> str:
    rows = [[str(cost["submissions"]), str(cost["workers"]), f"{cost['seconds']:.1f}",
             f"{cost['seconds'] / cost['submissions']:.2f}", cost["failure"] or "ok"] for cost in costs]
    return markdown_table(["submissions", "workers", "seconds", "seconds per submission", "outcome"], rows)


def plot_time_to_quality(results_dir: Path) -> Path:
    """One line per saved run (device and budget) of each validation score against training minutes."""
    figure, axes = plt.subplots(1, len(PLOTTED_SCORES), figsize=(15, 4), constrained_layout=True)
    for path in sorted(results_dir.glob("time-to-quality-*.json")):
        run = json.loads(path.read_text())
        minutes = [point["training_seconds"] / 60 for point in run["history"]]
        for axis, (key, _) in zip(axes, PLOTTED_SCORES):
            values = [point.get(key, float("nan")) for point in run["history"]]
            axis.plot(minutes, values, marker="o", label=f"{run['budget']} budget, {run['device']}")
    for axis, (_, title) in zip(axes, PLOTTED_SCORES):
        axis.set_xlabel("training time (minutes, scoring excluded)")
        axis.set_ylabel(title)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    path = results_dir / "time_to_quality.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
