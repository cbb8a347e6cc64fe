"""The lecture notes' worked examples, as data: inputs, kernels, biases, settings and the outputs
exactly as the notes print them.

Each :class:`Example` is what the sliding-window page loads with one click, and what the tests
check the engine against. ``expected`` is the notes' printed result, not ours: where the notes
round (the blur example prints 178 for 177.75) ``rounding`` says to how many decimals, and where
a note has a slip, ``slips`` names it and the data here holds the right number.

Sources (``/work/shared/seeds``):

- seed 001 (Andrew Ng's course notes) and seed 004 (Imperial College slides, "inspired from
  Andrew Ng"): the 6x6 step edge ``10 10 10 0 0 0`` with the kernel ``1 0 -1`` -> ``0 30 30 0``;
  ``n = 5, p = 1, f = 3, s = 2`` -> 3x3; a ``6 x 6 x 3`` input with ``3 x 3 x 3`` filters.
- seed 002: the 5x5 photo patch blurred with the 1/16 Gaussian -> ``178 175 216 / ...``.
- seed 003: max pooling of a 4x4 grid with 2x2 windows and stride 2 -> ``6 8 / 3 4``.

>>> EXAMPLES["edge_6x6"].expected
((0, 30, 30, 0), (0, 30, 30, 0), (0, 30, 30, 0), (0, 30, 30, 0))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from conv.stages import ConvSpec, PoolSpec

__all__ = ["EXAMPLES", "Example", "get"]


@dataclass(frozen=True)
class Example:
    """One worked example.

    Attributes
    ----------
    key : str
        Short identifier, used in URLs (``?example=edge_6x6``).
    title : str
        Button label, e.g. "6x6 edge -> 0 30 30 0".
    source : str
        Which note it comes from.
    description : str
        One or two sentences for the page.
    x : tuple
        The input as nested tuples, ``(C, H, W)``.
    spec : ConvSpec or None
        The convolutional layer; None for a pooling-only example.
    pool : PoolSpec or None
        Pooling applied to ``x`` directly when ``spec`` is None (else ``spec.pool``).
    expected : tuple or None
        The output as the notes print it: ``(H, W)`` nested tuples for one channel, ``(C, H, W)``
        for several; None when the notes give only the shape.
    expected_shape : tuple[int, int, int]
        ``(C, H, W)`` of the output (the notes' ``4 x 4 x 2`` is ``(2, 4, 4)``).
    kernel_key : str or None
        The ``kernels.library`` key of the kernel, when it is a library preset.
    rounding : int or None
        The notes print the output rounded to this many decimals (None: exact).
    slips : tuple[str, ...]
        Where the notes' text is wrong, and what is right.
    reconstructed : str
        Non-empty when the numbers are ours, not the notes' (and why).
    """

    key: str
    title: str
    source: str
    description: str
    x: tuple
    spec: ConvSpec | None
    pool: PoolSpec | None
    expected: tuple | None
    expected_shape: tuple[int, int, int]
    kernel_key: str | None = None
    rounding: int | None = None
    slips: tuple[str, ...] = ()
    reconstructed: str = ""

    @property
    def input_array(self) -> np.ndarray:
        """The input as float32 ``(C, H, W)``: the numbers on the slide, as pixel values."""
        return np.asarray(self.x, dtype=np.float32)

    @property
    def expected_array(self) -> np.ndarray | None:
        """``expected`` as float64 ``(C, H, W)``, or None."""
        if self.expected is None:
            return None
        a = np.asarray(self.expected, dtype=np.float64)
        return a[None] if a.ndim == 2 else a


def _grid(rows: str) -> tuple:
    """``"1 2; 3 4"`` -> ``((1, 2), (3, 4))``: the notes' grids, typed the way they are printed."""
    return tuple(tuple(int(v) for v in row.split()) for row in rows.split(";"))


# seed 001 / 004: "10 10 10 0 0 0" on every row (light left half, dark right half)
STEP_6X6 = _grid("; ".join(["10 10 10 0 0 0"] * 6))
VERTICAL_EDGE = _grid("1 0 -1; 1 0 -1; 1 0 -1")
HORIZONTAL_EDGE = _grid("1 1 1; 0 0 0; -1 -1 -1")
CENTRE = _grid("0 0 0; 0 1 0; 0 0 0")

# seed 002: the 5x5 "Original Image". The zoomed-in slide of its first window prints 144 for the
# pixel left of 161; the full grid (and the result 178) say 244: 144 would give 165.25.
PHOTO_5X5 = _grid(
    "206 205 247 245 244; 244 161 137 244 254; 192 154 75 200 249; "
    "90 109 96 143 223; 67 69 107 196 236"
)
# The 1/16 binomial Gaussian; the slide prints 0,0125 for the bottom-middle weight, a slip for
# 0,125 (the other three edge weights, the symmetry and the printed results all need 0.125).
GAUSSIAN_3X3 = ((0.0625, 0.125, 0.0625), (0.125, 0.25, 0.125), (0.0625, 0.125, 0.0625))

# seed 003: "max pool with 2x2 filters and stride 2"
POOL_4X4 = _grid("1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4")

# A 6 x 6 x 3 volume for two 3 x 3 x 3 filters. Seed 000 shows a volume example (CS231n's demo:
# a 5 x 5 x 3 input padded to 7 x 7 x 3, stride 2, output 3 x 3 x 2), but its OCR is too
# garbled to recover the numbers, and seed 001/004 give only the shapes. These numbers are ours,
# chosen so each channel has one clear feature: red the notes' vertical step, green a horizontal
# step (dark top, light bottom), blue a light 2 x 2 square. Filter W0 follows seed 004's
# sentence, "vertical edges in Red, horizontal edges in Green and vertical edges in Blue";
# filter W1 adds the three channels at the window's centre.
VOLUME_6X6X3 = (
    STEP_6X6,
    _grid("; ".join(["0 0 0 0 0 0"] * 3 + ["10 10 10 10 10 10"] * 3)),
    _grid("0 0 0 0 0 0; 0 0 0 0 0 0; 0 0 10 10 0 0; 0 0 10 10 0 0; 0 0 0 0 0 0; 0 0 0 0 0 0"),
)
VOLUME_FILTERS = (
    (VERTICAL_EDGE, HORIZONTAL_EDGE, VERTICAL_EDGE),
    (CENTRE, CENTRE, CENTRE),
)
VOLUME_BIAS = (1.0, -10.0)
VOLUME_OUT = (
    _grid("-9 21 41 11; -49 -19 21 -9; -49 -19 21 -9; -9 21 41 11"),
    _grid("0 0 -10 -10; 0 10 0 -10; 10 20 10 0; 10 10 0 0"),
)


_LIST = (
    Example(
        key="edge_6x6",
        title="6x6 edge · 1 0 -1 → 0 30 30 0",
        source="Lecture notes (Andrew Ng; Imperial College slide 9): vertical edge detection",
        description=(
            "A 6x6 image, light (10) on the left and dark (0) on the right, convolved with the "
            "vertical-edge kernel 1 0 -1. Every 3x3 window that straddles the step gives 30: the "
            "edge shows as a bright band two cells wide in the 4x4 output."
        ),
        x=(STEP_6X6,),
        spec=ConvSpec.from_kernel(VERTICAL_EDGE),
        pool=None,
        expected=_grid("; ".join(["0 30 30 0"] * 4)),
        expected_shape=(1, 4, 4),
        kernel_key="vertical_edge",
    ),
    Example(
        key="blur_5x5",
        title="5x5 photo · 1/16 Gaussian → 178 175 216",
        source="Lecture notes (seed 002): a filter transforms a pixel by its neighbours",
        description=(
            "A 5x5 patch of a photo blurred with the 1/16 Gaussian: each output is the weighted "
            "average of a pixel and its 8 neighbours, centre weight 0.25. The notes print the "
            "results rounded to whole numbers (177.75 is shown as 178)."
        ),
        x=(PHOTO_5X5,),
        spec=ConvSpec.from_kernel(GAUSSIAN_3X3),
        pool=None,
        expected=_grid("178 175 216; 141 133 183; 106 117 167"),
        expected_shape=(1, 3, 3),
        kernel_key="gaussian_3x3",
        rounding=0,
        slips=(
            (
                "The zoomed-in first window prints 144 left of 161; the image grid has 244, and "
                "only 244 gives 178 (144 would give 165.25)."
            ),
            "The kernel prints 0,0125 in the bottom row; it is 0.125 (1/8), as in the other rows.",
        ),
    ),
    Example(
        key="pool_4x4",
        title="4x4 max pool 2x2, stride 2 → 6 8 / 3 4",
        source="Lecture notes (seed 003): pooling",
        description=(
            "Max pooling with 2x2 windows and stride 2: the windows do not overlap, each keeps "
            "its largest value, and the 4x4 grid becomes 2x2. Pooling has no weights to learn."
        ),
        x=(POOL_4X4,),
        spec=None,
        pool=PoolSpec(kernel_size=2, stride=2, mode="max"),
        expected=_grid("6 8; 3 4"),
        expected_shape=(1, 2, 2),
    ),
    Example(
        key="pad1_stride2",
        title="n=5, p=1, f=3, s=2 → 3x3",
        source="Lecture notes (Imperial College slide 17): padding and stride",
        description=(
            "The output-size formula floor((n + 2p - f) / s) + 1 = floor((5 + 2 - 3) / 2) + 1 = 3. "
            "The 5x5 photo patch of the blur example, padded with a ring of zeros (p = 1), the "
            "window jumping two cells at a time (s = 2)."
        ),
        x=(PHOTO_5X5,),
        spec=ConvSpec.from_kernel(GAUSSIAN_3X3, padding=1, stride=2),
        pool=None,
        expected=None,
        expected_shape=(1, 3, 3),
        kernel_key="gaussian_3x3",
        reconstructed=(
            "The slide gives only the sizes (a 5x5 input, 3x3 output); the numbers are the blur "
            "example's."
        ),
    ),
    Example(
        key="volume_6x6x3",
        title="6x6x3 volume · two 3x3x3 filters → 4x4x2",
        source="Lecture notes (Andrew Ng; Imperial College slide 19): convolution over volume",
        description=(
            "A colour image is three slices (red, green, blue). A filter has one 3x3 slice per "
            "input slice: each slice is slid over its own channel, the three partial sums are "
            "added, then the filter's bias. Two filters give two output slices: 4x4x2."
        ),
        x=VOLUME_6X6X3,
        spec=ConvSpec(weight=VOLUME_FILTERS, bias=VOLUME_BIAS),
        pool=None,
        expected=VOLUME_OUT,
        expected_shape=(2, 4, 4),
        reconstructed=(
            "The notes give the shapes (6x6x3 * 3x3x3 -> 4x4, two filters -> 4x4x2) but no "
            "numbers, and seed 000's volume example is not legible: these numbers are ours."
        ),
    ),
)

EXAMPLES: Mapping[str, Example] = MappingProxyType({e.key: e for e in _LIST})
"""The worked examples by key, in the order the page offers them."""


def get(key: str) -> Example:
    """The example called ``key``; ``ValueError`` naming the allowed keys otherwise."""
    if key not in EXAMPLES:
        raise ValueError(
            f"The parameter `key` must be one of {', '.join(map(repr, EXAMPLES))}; got {key!r}."
        )
    return EXAMPLES[key]
