"""What a failed value check says about where a student's output differs from the expected one."""

from __future__ import annotations

import pytest
import torch

from grader.checking.inspection import assert_same_values, where_they_differ


def test_a_difference_in_one_channels_border_is_located_there():
    expected = torch.zeros(2, 3, 20, 20)
    actual = expected.clone()
    actual[:, 1, 0, :] = 1.0  # the top row of channel 1: what a padding mistake does
    assert where_they_differ(actual, expected, 1e-6) == "channel 1 of 3, only within 2 pixels of the border (2% of the values)"


def test_a_difference_everywhere_says_so():
    assert where_they_differ(torch.ones(1, 2, 16, 16), torch.zeros(1, 2, 16, 16), 1e-6) == (
        "every channel, across the whole map (100% of the values)")


def test_small_maps_make_no_claim_about_borders():
    assert where_they_differ(torch.ones(1, 2, 5, 5), torch.zeros(1, 2, 5, 5), 1e-6) == "every channel (100% of the values)"


def test_the_failure_message_names_the_place_and_the_largest_difference():
    expected = torch.zeros(1, 2, 16, 16, dtype=torch.float64)
    actual = expected.clone()
    actual[0, 0, 8, 8] = 0.5
    with pytest.raises(AssertionError, match=r"in channel 0 of 2, inside the map \(0% of the values\) "
                                             r"\(largest difference 0.5\)"):
        assert_same_values(actual, expected, "conv")
