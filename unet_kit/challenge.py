"""The ISBI 2012 challenge's own scores: V_Rand, V_Info and pixel error, computed its way.

The organisers (Arganda-Carreras et al. 2015, Front. Neuroanat. 9:142) scored a submission with a
Fiji script over the plugin Trainable Weka Segmentation's metrics. This module follows its
definitions:

* The submission is a *cell* probability (1 = cell); ours is a membrane probability, so the
  cell probability is ``1 - p``. At a threshold ``t`` a pixel is cell when its cell probability
  is ``> t`` and boundary otherwise.
* True cells are the 4-connected regions of non-membrane pixels of the labels (255 = cell).
* Predicted cells are the 4-connected regions of predicted cell pixels, grown over the predicted
  boundary by flooding (a watershed of the binary image): each boundary pixel joins the cell it
  is nearest to, counting 4-connected steps through boundary, and pixels equally near two
  cells become a one-pixel line. This is the "border thinning": a membrane drawn thick costs
  nothing, a gap in it merges two cells. Fiji floods with its own watershed code; on pixels that
  are equally near two cells the two can differ by the odd pixel.
* Only pixels inside true cells count ("foreground-restricted"); a line pixel counts as a cell
  of one pixel.
* V_Rand and V_Info are F-scores (1 is perfect) of pair counting and of mutual information.
  Each slice is scored at each threshold 0.0, 0.1, ..., 1.0, the scores are averaged over the
  slices, and the best threshold's average is reported.
* Pixel error is ``1 -`` the best F-score of the cell pixels, its counts summed over all slices.

``unet_kit.metrics`` keeps the simpler scores at threshold 0.5 that the notebook teaches first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_kit.metrics import cells, membrane_mask


def challenge_thresholds() -> list[float]:
    """0.0 to 1.0 in steps of 0.1, summed the way the challenge's loop summed them (so the last is
    0.9999999999999999, and a cell probability of exactly 1 still counts as cell there)."""
    thresholds, value = [], 0.0
    while value <= 1.0:
        thresholds.append(value)
        value += 0.1
    return thresholds


def true_cells(labels: np.ndarray) -> np.ndarray:
    """One slice's true cells: 4-connected regions of the label's cell pixels (> 0), membranes 0."""
    return cells(membrane_mask(labels))


def flood_boundaries(cell_mask: np.ndarray) -> np.ndarray:
    """Predicted cells of one slice, grown over its boundary pixels (see the module's docstring).

    Returns labels > 0 for cells and 0 for the thinned lines; a slice with no cell pixel at all is
    one segment.
    """
    if not cell_mask.any():
        return np.ones(cell_mask.shape, dtype=np.int32)
    labels = cells(~cell_mask).astype(np.int32)
    settled = cell_mask.copy()
    unreachable = np.iinfo(np.int32).max
    while True:
        lowest = np.full(labels.shape, unreachable, dtype=np.int32)
        highest = np.zeros(labels.shape, dtype=np.int32)
        for neighbour in _four_neighbours(labels):
            lowest = np.minimum(lowest, np.where(neighbour > 0, neighbour, unreachable))
            highest = np.maximum(highest, neighbour)
        reached = ~settled & (highest > 0)
        if not reached.any():
            return labels
        labels[reached] = np.where(lowest[reached] == highest[reached], highest[reached], 0)
        settled |= reached


def _four_neighbours(image: np.ndarray) -> list[np.ndarray]:
    """The values above, below, left and right of each pixel (0 beyond the border)."""
    padded = np.pad(image, 1)
    return [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]


@dataclass(frozen=True)
class SegmentAgreement:
    """Two F-scores of how a slice's predicted cells agree with its true cells (1 = the same)."""

    v_rand: float
    v_info: float


def segment_agreement(truth: np.ndarray, proposal: np.ndarray) -> SegmentAgreement:
    """V_Rand and V_Info of two label images, counted over the true cells' pixels only.

    ``truth`` 0 is membrane (left out); ``proposal`` 0 is a line pixel, each a segment of its own.
    """
    inside = truth > 0
    true_ids, proposed_ids = truth[inside].astype(np.int64), proposal[inside].astype(np.int64)
    pixels = true_ids.size
    if pixels == 0:
        return SegmentAgreement(v_rand=0.0, v_info=0.0)
    on_lines = proposed_ids == 0
    singles = on_lines.sum() / pixels  # the share of counted pixels that are one-pixel segments
    true_share = np.bincount(true_ids)[1:] / pixels
    true_share = true_share[true_share > 0]
    proposed_share = np.bincount(proposed_ids[~on_lines])[1:] / pixels
    proposed_share = proposed_share[proposed_share > 0]
    pairs = true_ids[~on_lines] * (proposed_ids.max() + 1) + proposed_ids[~on_lines]
    joint_share = np.unique(pairs, return_counts=True)[1] / pixels

    # Rand: the chance that two pixels drawn at random lie in one segment, in either or both images
    together_in_truth = np.sum(true_share**2)
    together_in_proposal = np.sum(proposed_share**2) + singles / pixels
    together_in_both = np.sum(joint_share**2) + singles / pixels
    v_rand = _f_score(together_in_both / together_in_proposal, together_in_both / together_in_truth)

    # Information: entropies in nats; a one-pixel segment has share 1 / pixels
    true_entropy = -np.sum(true_share * np.log(true_share))
    proposal_entropy = -np.sum(proposed_share * np.log(proposed_share)) + singles * np.log(pixels)
    joint_entropy = -np.sum(joint_share * np.log(joint_share)) + singles * np.log(pixels)
    if true_entropy == 0 or proposal_entropy == 0:
        v_info = 0.0  # one of the two is a single segment: it says nothing about the other
    else:
        mutual_information = true_entropy + proposal_entropy - joint_entropy
        v_info = _f_score(mutual_information / true_entropy, mutual_information / proposal_entropy)
    return SegmentAgreement(v_rand=float(v_rand), v_info=float(v_info))


def _f_score(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class ChallengeScores:
    """The challenge's three figures (V_Rand, V_Info: higher is better; pixel error: lower) and the
    threshold on the cell probability at which each was best."""

    v_rand: float
    v_rand_threshold: float
    v_info: float
    v_info_threshold: float
    pixel_error: float
    pixel_error_threshold: float


def challenge_scores(membrane_probability: np.ndarray, labels: np.ndarray) -> ChallengeScores:
    """Score (H, W) or (S, H, W) membrane probabilities against the labels as the challenge did."""
    membrane = np.asarray(membrane_probability, dtype=np.float64).reshape(-1, *np.shape(labels)[-2:])
    cell_probability = 1.0 - membrane
    truth = np.asarray(labels).reshape(membrane.shape)
    cells_of_truth = [true_cells(slice_labels) for slice_labels in truth]
    is_cell = truth > 0
    thresholds = challenge_thresholds()
    mean_rand, mean_info, pixel_f = [], [], []
    for threshold in thresholds:
        predicted_cell = cell_probability > threshold
        agreements = [segment_agreement(cells, flood_boundaries(slice_cells))
                      for cells, slice_cells in zip(cells_of_truth, predicted_cell)]
        mean_rand.append(np.mean([agreement.v_rand for agreement in agreements]))
        mean_info.append(np.mean([agreement.v_info for agreement in agreements]))
        true_positive = np.sum(predicted_cell & is_cell)
        precision = true_positive / max(1, np.sum(predicted_cell))
        recall = true_positive / max(1, np.sum(is_cell))
        pixel_f.append(_f_score(precision, recall))
    best_rand, best_info, best_pixel = (int(np.argmax(scores)) for scores in (mean_rand, mean_info, pixel_f))
    return ChallengeScores(
        v_rand=float(mean_rand[best_rand]), v_rand_threshold=round(thresholds[best_rand], 1),
        v_info=float(mean_info[best_info]), v_info_threshold=round(thresholds[best_info], 1),
        pixel_error=float(1 - pixel_f[best_pixel]), pixel_error_threshold=round(thresholds[best_pixel], 1),
    )
