"""Tests for kernels.text: what people type or paste, where errors point, and exact round trips."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels import catalogue, library
from kernels.text import KernelTextError, format_kernel, parse_kernel

SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
GAUSS16 = [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]
NINTH = 1 / 9

# On a failure Hypothesis imports libcst (to suggest a patch), which imports mypy_extensions,
# whose DeprecationWarning pyproject's filterwarnings=error turns into a pytest INTERNALERROR
# that hides the falsifying example. Ignore exactly that warning here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

# Moderate example counts: the machine's two cores are shared.
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- accepted -------------------------------------------------------------------------------------

ACCEPTED = [
    # plain: whitespace between numbers, newlines between rows
    ("1 0 -1\n2 0 -2\n1 0 -1", SOBEL),
    ("  1\t0\t-1\n2\t0\t-2\n1\t0\t-1\n\n", SOBEL),  # tabs (spreadsheets, slides), blank lines
    ("1 0 -1\r\n2 0 -2\r\n1 0 -1", SOBEL),  # Windows line ends
    # commas between numbers, semicolons between rows
    ("1, 0, -1\n2, 0, -2\n1, 0, -1", SOBEL),
    ("1,0,-1;2,0,-2;1,0,-1", SOBEL),
    ("1 0 -1; 2 0 -2; 1 0 -1;", SOBEL),
    ("1, 0, -1,\n2, 0, -2,\n1, 0, -1,", SOBEL),  # trailing commas
    # brackets: Python lists, numpy repr and print, MATLAB, tuples
    ("[[1, 0, -1], [2, 0, -2], [1, 0, -1]]", SOBEL),
    ("[[1, 0, -1],\n [2, 0, -2],\n [1, 0, -1]]", SOBEL),
    ("[1, 0, -1], [2, 0, -2], [1, 0, -1]", SOBEL),
    ("[1 0 -1]\n[2 0 -2]\n[1 0 -1]", SOBEL),
    ("array([[ 1,  0, -1],\n       [ 2,  0, -2],\n       [ 1,  0, -1]])", SOBEL),
    ("np.array([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])", SOBEL),
    ("array([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]], dtype=float32)", SOBEL),
    ("[[ 1.  0. -1.]\n [ 2.  0. -2.]\n [ 1.  0. -1.]]", SOBEL),
    ("[1 0 -1; 2 0 -2; 1 0 -1]", SOBEL),
    ("[1 0 -1\n 2 0 -2\n 1 0 -1]", SOBEL),
    ("((1, 0, -1), (2, 0, -2), (1, 0, -1))", SOBEL),
    ("{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}", SOBEL),
    # LaTeX, as in the lecture notes
    ("$$\\begin{bmatrix} 1 & 0 & -1 \\\\ 2 & 0 & -2 \\\\ 1 & 0 & -1 \\end{bmatrix}$$", SOBEL),
    ("\\frac{1}{16}\\begin{pmatrix} 1 & 2 & 1 \\\\ 2 & 4 & 2 \\\\ 1 & 2 & 1 \\end{pmatrix}",
     GAUSS16),  # fmt: skip
    # typographic minus signs pasted from slides
    ("1 0 \u22121\n2 0 \u22122\n1 0 \u22121", SOBEL),
    ("1 0 \u20131\n2 0 \u20132\n1 0 \u20131", SOBEL),
    # fractions, decimals, scientific notation
    ("1/9 1/9 1/9", [[NINTH] * 3]),
    ("1 / 9   1/9   1 /9", [[NINTH] * 3]),
    ("-3/4 3/-4 +1/2", [[-0.75, -0.75, 0.5]]),
    ("0.25 .5 5. -0.125", [[0.25, 0.5, 5.0, -0.125]]),
    ("1e-3 2.5E+2 -1e0 1.5e-3/3e-3", [[0.001, 250.0, -1.0, 0.5]]),
    # a leading scale, with or without '*', before brackets or rows
    ("1/16 * [1 2 1; 2 4 2; 1 2 1]", GAUSS16),
    ("1/16 [1 2 1; 2 4 2; 1 2 1]", GAUSS16),
    ("1/16*[[1,2,1],[2,4,2],[1,2,1]]", GAUSS16),
    ("1/16 *\n1 2 1\n2 4 2\n1 2 1", GAUSS16),  # what format_kernel prints
    ("1/16 \u00d7 [1 2 1; 2 4 2; 1 2 1]", GAUSS16),  # multiplication sign
    ("0.0625 * [1 2 1; 2 4 2; 1 2 1]", GAUSS16),
    ("-1 * [1 0 -1]", [[-1, 0, 1]]),
    # a trailing scale after a closing bracket
    ("[1 2 1; 2 4 2; 1 2 1] / 16", GAUSS16),
    ("[1 2 1; 2 4 2; 1 2 1] * 0.0625", GAUSS16),
    ("1/4 * [1 2 1; 2 4 2; 1 2 1] / 4", GAUSS16),
    # decimal commas (the lecture notes' own table), and commas that stay separators
    ("0,0625\t0,125\t0,0625\n0,125\t0,25\t0,125\n0,0625\t0,125\t0,0625", GAUSS16),
    ("0,5 -0,25", [[0.5, -0.25]]),
    ("1,5", [[1.0, 5.0]]),  # no whitespace-separated pair: commas separate
    ("1,2\n3,4", [[1, 2], [3, 4]]),
    ("[1,5 2,5]", [[1, 5, 2, 5]]),  # inside brackets commas separate, as in MATLAB
    # shapes: a single row is 1 x n, a single number 1 x 1, a column n x 1
    ("1 0 -1", [[1, 0, -1]]),
    ("[1, 0, -1]", [[1, 0, -1]]),
    ("7", [[7]]),
    ("[[7]]", [[7]]),
    ("1\n2\n1", [[1], [2], [1]]),
    ("[1; 2; 1]", [[1], [2], [1]]),
    ("-0", [[-0.0]]),
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[repr(t)[:40] for t, _ in ACCEPTED])
def test_accepted_formats(text, expected):
    got = parse_kernel(text)
    want = np.asarray(expected, dtype=np.float64)
    assert got.dtype == np.float64 and got.ndim == 2
    assert got.shape == want.shape
    assert got.tobytes() == want.tobytes()  # bit for bit: the same floats as typing them


def test_fractions_are_the_nearest_floats():
    assert parse_kernel("1/9")[0, 0] == 1 / 9
    assert parse_kernel("2/3")[0, 0] == 2 / 3
    # a scale a/b multiplies as (a * x) / b, not (a/b) * x, which differ in the last bit:
    assert (1 / 10) * 3 != 3 / 10
    assert parse_kernel("1/10 * [3]")[0, 0] == 0.3
    assert parse_kernel("[3] / 10")[0, 0] == 0.3
    assert parse_kernel("1/9 * [7]")[0, 0] == 7 / 9


def test_lecture_kernels_parse_to_the_library_arrays():
    assert parse_kernel("1/16 * [1 2 1; 2 4 2; 1 2 1]").tobytes() == (
        library.get("gaussian_3x3").weights.tobytes()
    )
    assert parse_kernel("1/9 1/9 1/9; 1/9 1/9 1/9; 1/9 1/9 1/9").tobytes() == (
        library.get("box").weights.tobytes()
    )
    assert np.array_equal(parse_kernel("-1 0 1\n-2 0 2\n-1 0 1"), catalogue.SOBEL_X)


def test_the_result_is_a_fresh_writable_array():
    a = parse_kernel("1 2")
    a[0, 0] = 5.0  # the caller owns it
    assert parse_kernel("1 2")[0, 0] == 1.0


def test_max_size_is_inclusive_and_configurable():
    assert parse_kernel("\n".join([" ".join(["1"] * 15)] * 15)).shape == (15, 15)
    assert parse_kernel("1 2 3", max_size=3).shape == (1, 3)
    with pytest.raises(KernelTextError) as info:
        parse_kernel("1 2 3 4", max_size=3)
    assert (info.value.row, info.value.col) == (1, 4)


@pytest.mark.parametrize("max_size", [0, -1, 2.0, True, "15", None])
def test_bad_max_size_is_a_plain_value_error(max_size):
    with pytest.raises(ValueError, match="`max_size`") as info:
        parse_kernel("1", max_size=max_size)
    assert not isinstance(info.value, KernelTextError)  # a programming error, not the user's


# --- rejected -------------------------------------------------------------------------------------

SIXTEEN = " ".join(["1"] * 16)

REJECTED = [
    # (text, row, col, part of the message)
    ("", None, None, "empty"),
    ("   \n\t ", None, None, "empty"),
    ("[]", None, None, "empty"),
    ("[[]]", None, None, "empty"),
    (";;", None, None, "empty"),
    ("1 2 3\n4 5 abc\n7 8 9", 2, 3, "row 2, column 3: 'abc' is not a number"),
    ("1 x 3", 1, 2, "row 1, column 2: 'x' is not a number"),
    ("1 2\n3 4\n5 1/2/3", 3, 2, "'1/2/3' is not a number"),
    ("1 2 3\n4 5 6\n7 8", 3, None, "row 3 has 2 numbers, row 1 has 3"),
    ("1 2\n3 4 5", 2, None, "row 2 has 3 numbers, row 1 has 2"),
    ("1\n2 3", 2, None, "row 2 has 2 numbers, row 1 has 1 number"),
    ("[[1, 2], [3]]", 2, None, "row 2 has 1 number, row 1 has 2"),
    ("[[1, 2], []]", 2, None, "row 2 has 0 numbers, row 1 has 2"),
    ("1 nan", 1, 2, "'nan' is not a finite number"),
    ("1 2\nNaN 3", 2, 1, "'NaN' is not a finite number"),
    ("inf 1", 1, 1, "'inf' is not a finite number"),
    ("1 -Infinity", 1, 2, "'-Infinity' is not a finite number"),
    ("1 2\n3 1/0", 2, 2, "row 2, column 2: '1/0' divides by zero"),
    ("0/0", 1, 1, "'0/0' divides by zero"),
    ("1e309", 1, 1, "too large"),
    ("1 -1e400", 1, 2, "too large"),
    ("1e200/1e-200", 1, 1, "too large"),
    ("1e300 * [1 1e10]", 1, 2, "too large"),  # the scale pushes it over
    ("\n".join(["1"] * 16), 16, None, "row 16: the kernel has 16 rows; at most 15"),
    (SIXTEEN, 1, 16, "row 1, column 16: this row has 16 numbers; at most 15"),
    ("1 2\n" + " ".join(["1"] * 20), 2, 16, "20 numbers"),
    ("[1 2", None, None, "never closed"),
    ("1 2]", None, None, "no matching opening bracket"),
    ("[[[1]]]", None, None, "nested more than two deep"),
    ("[1 2] 3", None, None, "'3' is outside the brackets"),
    ("[[1, 2]; [3; 4]]", 2, None, "';' inside the bracketed row"),
    ("1/0 * [1 2]", None, None, "the scale '1/0' divides by zero"),
    ("[1 2] / 0", None, None, "divides by zero"),
    ("1/16 *", None, None, "no kernel after the scale"),
    ("1/16 * abc", 1, 1, "'abc' is not a number"),
]


@pytest.mark.parametrize(
    "text, row, col, message", REJECTED, ids=[repr(r[0])[:40] for r in REJECTED]
)
def test_rejections_point_at_the_problem(text, row, col, message):
    with pytest.raises(KernelTextError) as info:
        parse_kernel(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.row, err.col) == (row, col)
    assert message in str(err)
    if row is not None and col is not None:
        assert str(err).startswith(f"row {row}, column {col}: ")


def test_non_string_text_is_refused():
    with pytest.raises(KernelTextError, match="`text`"):
        parse_kernel([[1, 0], [0, 1]])  # type: ignore[arg-type]


def test_very_long_text_is_refused_before_parsing():
    with pytest.raises(KernelTextError, match="characters long"):
        parse_kernel("1 " * 20_000)


def test_first_error_in_reading_order_wins():
    with pytest.raises(KernelTextError) as info:
        parse_kernel("1 2 3\n4 oops 6 7\nnan 8 9")
    assert (info.value.row, info.value.col) == (2, 2)


def test_error_survives_pickling():
    with pytest.raises(KernelTextError) as info:
        parse_kernel("1 2\n3 x")
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.row, again.col, str(again)) == (2, 2, str(info.value))


@st.composite
def grid_with_a_bad_token(draw):
    rows = draw(st.integers(1, 15))
    cols = draw(st.integers(1, 15))
    values = draw(hnp.arrays(np.int64, (rows, cols), elements=st.integers(-999, 999)))
    r, c = draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))
    bad = draw(st.sampled_from(["abc", "nan", "1/0", "inf", "1..2", "--1", "e5", "0x10", "#"]))
    cells = [[str(v) for v in row] for row in values]
    cells[r][c] = bad
    sep = draw(st.sampled_from([" ", ", ", "\t"]))
    rowsep = draw(st.sampled_from(["\n", "; "]))
    return rowsep.join(sep.join(row) for row in cells), r + 1, c + 1


@SETTINGS
@given(grid_with_a_bad_token())
def test_any_bad_token_is_located_exactly(case):
    text, row, col = case
    with pytest.raises(KernelTextError) as info:
        parse_kernel(text)
    assert (info.value.row, info.value.col) == (row, col)
    assert str(info.value).startswith(f"row {row}, column {col}: ")


# --- formatting -----------------------------------------------------------------------------------


def test_format_gaussian_3x3_as_sixteenths():
    assert format_kernel(library.get("gaussian_3x3").weights) == (
        "1/16 *\n1  2  1\n2  4  2\n1  2  1"
    )


def test_format_box_as_ninths():
    assert format_kernel(np.full((3, 3), 1 / 9)) == "1/9 *\n1  1  1\n1  1  1\n1  1  1"


def test_format_integers_aligned_without_decimal_points():
    assert format_kernel(np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])) == (
        "-1  0  1\n-2  0  2\n-1  0  1"
    )
    assert format_kernel([[10, -1], [0, 100]]) == "10   -1\n 0  100"


def test_format_uses_the_smallest_common_denominator():
    assert format_kernel(np.array([[0.5, 0.25]])) == "1/4 *\n2  1"
    assert format_kernel(np.array([[0.5, -1.5]])) == "1/2 *\n1  -3"
    unsharp = format_kernel(library.get("unsharp_5x5").weights)
    assert unsharp.splitlines()[0] == "1/256 *"
    assert unsharp.splitlines()[3].split() == ["-6", "-24", "476", "-24", "-6"]


def test_format_other_floats_with_shortest_round_trip_repr():
    g = library.get("gaussian").weights  # no common denominator
    text = format_kernel(g)
    assert not text.startswith("1/")
    assert repr(float(g[0, 0])) in text.split()
    assert format_kernel(np.array([[1e-5, 2.5e300]])) == "1e-05  2.5e+300"


def test_format_columns_are_aligned():
    lines = format_kernel(library.get("log").weights).splitlines()
    assert len({len(line) for line in lines}) == 1  # right-aligned columns: equal line lengths


def test_format_keeps_negative_zero():
    assert format_kernel(np.array([[-0.0, 1.0]])) == "-0  1"
    assert format_kernel(np.array([[-0.0, 0.5]])) == "1/2 *\n-0  1"


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones(3), "2-dimensional"),
        (np.ones((2, 2, 2)), "2-dimensional"),
        (np.ones((0, 3)), "non-empty"),
        (np.array([[1.0, np.nan]]), "finite"),
        (np.array([[np.inf]]), "finite"),
        (np.array([["1"]]), "real numbers"),
        (np.array([[1 + 1j]]), "real numbers"),
    ],
)
def test_format_refuses_what_is_not_a_kernel(bad, match):
    with pytest.raises(ValueError, match=match):
        format_kernel(bad)


@pytest.mark.parametrize("kernel", library.presets(), ids=lambda k: k.key)
def test_every_preset_round_trips_exactly(kernel):
    assert parse_kernel(format_kernel(kernel.weights)).tobytes() == kernel.weights.tobytes()


# --- round trips with Hypothesis ------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=15)
any_float = st.floats(allow_nan=False, allow_infinity=False)  # subnormals, -0.0, 1e308 included


@st.composite
def fraction_grids(draw):
    """Integers over a common denominator: the grids format_kernel prints as '1/m *'."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6))
    m = draw(st.integers(1, 256))  # format_kernel looks for denominators up to 256
    n = draw(hnp.arrays(np.int64, shape, elements=st.integers(-1000, 1000)))
    return n / m


kernels = st.one_of(
    hnp.arrays(np.float64, shapes, elements=any_float),
    hnp.arrays(np.float64, shapes, elements=st.floats(-10, 10, width=16)),  # short decimals
    fraction_grids(),
)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@SETTINGS
@given(kernels)
def test_format_then_parse_is_exact(k):
    text = format_kernel(k)
    assert _same_bits(parse_kernel(text), k), text


@SETTINGS
@given(fraction_grids())
def test_fraction_grids_print_as_integers_over_a_denominator(k):
    lines = format_kernel(k).splitlines()
    if np.all(k == np.rint(k)):
        body = lines
    else:
        assert re.fullmatch(r"1/\d+ \*", lines[0]), lines[0]
        body = lines[1:]
    assert all(re.fullmatch(r"-?\d+", tok) for line in body for tok in line.split())


@SETTINGS
@given(hnp.arrays(np.float64, shapes, elements=any_float))
def test_python_and_matlab_spellings_parse_exactly(k):
    # Independent writers: Python's own list repr, and a MATLAB-style string of reprs.
    assert _same_bits(parse_kernel(str(k.tolist())), k)
    matlab = "[" + "; ".join(" ".join(repr(x) for x in row) for row in k.tolist()) + "]"
    assert _same_bits(parse_kernel(matlab), k)
