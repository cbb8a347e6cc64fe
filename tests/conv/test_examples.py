"""The lecture notes' worked examples: the engine reproduces the numbers the notes print."""

import numpy as np
import pytest

from conv import examples, ops, stages
from conv.examples import EXAMPLES
from conv.geometry import output_size
from kernels import library


def _output(ex):
    x = ex.input_array
    if ex.spec is None:
        p = ex.pool
        return ops.pool2d(x, p.kernel_size, p.effective_stride, p.padding, mode=p.mode)
    return stages.run(x, ex.spec).output.array


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_engine_reproduces_the_notes(key):
    ex = EXAMPLES[key]
    out = _output(ex)
    assert out.shape == ex.expected_shape
    if ex.expected is None:
        return
    expected = ex.expected_array
    got = out.astype(np.float64)
    if ex.rounding is not None:
        # the notes round half away from zero, like a person does
        got = np.floor(got * 10**ex.rounding + 0.5) / 10**ex.rounding
    np.testing.assert_array_equal(got, expected)


def test_edge_example_uses_the_notes_numbers_ten_and_zero():
    ex = examples.get("edge_6x6")
    assert set(np.unique(ex.input_array)) == {0.0, 10.0}
    assert ex.input_array[0, :, :3].min() == 10 and ex.input_array[0, :, 3:].max() == 0
    np.testing.assert_array_equal(ex.spec.weight_array[0, 0], library.get("vertical_edge").weights)


def test_blur_example_first_window_is_177_75_and_the_slips_are_named():
    ex = examples.get("blur_5x5")
    out = stages.run(ex.input_array, ex.spec).conv.array[0]
    assert out[0, 0] == np.float32(177.75)  # printed as 178 in the notes
    np.testing.assert_array_equal(ex.spec.weight_array[0, 0], library.get("gaussian_3x3").weights)
    # the zoomed slide's 144 (instead of 244) would give 165.25, not the printed 178
    x = ex.input_array.copy()
    x[0, 1, 0] = 144
    assert stages.run(x, ex.spec).conv.array[0, 0, 0] == np.float32(165.25)
    assert any("144" in s for s in ex.slips) and any("0,0125" in s for s in ex.slips)


def test_stride_example_matches_the_formula_of_the_slide():
    ex = examples.get("pad1_stride2")
    assert ex.spec.stride == (2, 2) and ex.spec.padding == 1
    worked = output_size(5, 3, padding=1, stride=2)
    assert worked.value == 3 and worked.formula == "(5 + 2*1 - 3) / 2 + 1 = 3"
    assert ex.reconstructed


def test_volume_example_is_6x6x3_with_two_3x3x3_filters_and_biases():
    ex = examples.get("volume_6x6x3")
    assert ex.input_array.shape == (3, 6, 6)
    assert ex.spec.weight_shape == (2, 3, 3, 3)
    assert ex.spec.bias == (1.0, -10.0)
    assert ex.reconstructed  # our numbers: the notes give only the shapes
    run = stages.run(ex.input_array, ex.spec)
    # the output value = the per-channel partial sums + the bias, cell by cell
    w = ex.spec.weight_array
    x = ex.input_array
    for o in range(2):
        for i in range(4):
            for j in range(4):
                partials = [(x[c, i:i + 3, j:j + 3] * w[o, c]).sum() for c in range(3)]
                assert run.output.array[o, i, j] == sum(partials) + ex.spec.bias[o]


def test_pool_example_keeps_each_windows_maximum():
    ex = examples.get("pool_4x4")
    assert ex.spec is None and ex.pool.mode == "max" and ex.pool.kernel_size == (2, 2)
    np.testing.assert_array_equal(_output(ex)[0], [[6, 8], [3, 4]])


def test_kernel_keys_name_library_presets():
    for ex in EXAMPLES.values():
        if ex.kernel_key is not None:
            np.testing.assert_array_equal(ex.spec.weight_array[0, 0],
                                          library.get(ex.kernel_key).weights)


def test_get_names_the_allowed_keys():
    with pytest.raises(ValueError, match="edge_6x6"):
        examples.get("nope")
