"""Segmentation scores of the ISBI 2012 challenge, as pure functions of arrays.

Predictions are membrane probabilities; labels follow the challenge (255 = cell, 0 = membrane).
References: Arganda-Carreras et al., "Crowdsourcing the creation of image segmentation
algorithms for connectomics", Front. Neuroanat. 2015 (pixel error, adapted Rand error,
variation of information).

The segment scores compare cells, not membranes. True cells are the 4-connected regions of
non-membrane pixels, and the true membrane pixels are left out ("foreground-restricted"). The
predicted cells are the connected regions of the thresholded prediction, grown over the
predicted membrane pixels until they meet, so boundaries have no width: the challenge thinned
predicted boundaries for the same reason. Without this, every predicted membrane pixel would
share one giant segment, and a prediction with the right cells but membranes one pixel too thick
would score an adapted Rand error near 0.08 on slices 25-29 instead of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.measure import label as connected_components
from skimage.metrics import adapted_rand_error, variation_of_information
from skimage.segmentation import expand_labels

MEMBRANE_THRESHOLD = 0.5


def membrane_mask(labels: np.ndarray) -> np.ndarray:
    """True where the challenge's labels mark membrane (grey value 0)."""
    return np.asarray(labels) == 0


def pixel_error(membrane_probability: np.ndarray, labels: np.ndarray,
                threshold: float = MEMBRANE_THRESHOLD) -> float:
    """Fraction of pixels whose thresholded membrane prediction disagrees with the labels."""
    predicted = np.asarray(membrane_probability) >= threshold
    return float(np.mean(predicted != membrane_mask(labels)))


@dataclass(frozen=True)
class SegmentationScores:
    """Scores of one or more slices; lower is better for every field."""

    pixel_error: float
    adapted_rand_error: float
    split_variation_of_information: float  # H(prediction | truth): over-segmentation
    merge_variation_of_information: float  # H(truth | prediction): under-segmentation


def cells(membrane_probability_or_mask: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Label cells as 4-connected components of the non-membrane pixels of one slice."""
    membranes = (np.asarray(membrane_probability_or_mask) >= threshold if threshold is not None
                 else np.asarray(membrane_probability_or_mask, dtype=bool))
    return connected_components(~membranes, connectivity=1)


def predicted_cells(membrane_probability: np.ndarray, threshold: float = MEMBRANE_THRESHOLD) -> np.ndarray:
    """Cells of one predicted slice: connected non-membrane regions, each grown over the nearest membrane pixels.

    Every pixel gets a cell label > 0 unless the slice holds no cell at all (then all stay 0).
    """
    labelled = cells(membrane_probability, threshold)
    return expand_labels(labelled, distance=sum(labelled.shape))


def segmentation_scores(membrane_probability: np.ndarray, labels: np.ndarray,
                        threshold: float = MEMBRANE_THRESHOLD) -> SegmentationScores:
    """Challenge scores averaged over slices; inputs are (H, W) or (S, H, W)."""
    probability = np.asarray(membrane_probability).reshape(-1, *np.shape(labels)[-2:])
    truth = np.asarray(labels).reshape(probability.shape)
    rand, split, merge = [], [], []
    for slice_probability, slice_labels in zip(probability, truth):
        true_cells = cells(membrane_mask(slice_labels))
        proposed_cells = predicted_cells(slice_probability, threshold)
        rand.append(adapted_rand_error(true_cells, proposed_cells, ignore_labels=(0,))[0])
        # skimage returns H(test | true) then H(true | test)
        slice_split, slice_merge = variation_of_information(true_cells, proposed_cells,
                                                            ignore_labels=(0,))
        split.append(slice_split)
        merge.append(slice_merge)
    return SegmentationScores(
        pixel_error=pixel_error(probability, truth, threshold),
        adapted_rand_error=float(np.mean(rand)),
        split_variation_of_information=float(np.mean(split)),
        merge_variation_of_information=float(np.mean(merge)),
    )
