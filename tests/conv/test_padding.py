"""conv.padding: the padding the convolution reads is numpy.pad's, for every mode."""

import numpy as np
import pytest

from conv.options import PADDING_MODES
from conv.padding import NUMPY_PAD_MODE, index_map, pad, source_index


def test_pad_matches_numpy_pad_for_every_mode():
    x = np.arange(20, dtype=np.float32).reshape(1, 4, 5)
    for mode in PADDING_MODES:
        pads = ((3, 1), (2, 4))
        expected = np.pad(x, ((0, 0),) + pads, mode=NUMPY_PAD_MODE[mode])
        np.testing.assert_array_equal(pad(x, pads, mode), expected)


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_index_map_is_source_index_over_the_padded_axis(mode):
    n, before, after = 5, 4, 3
    expected = source_index(np.arange(-before, n + after), n, mode)
    np.testing.assert_array_equal(index_map(n, before, after, mode), expected)
