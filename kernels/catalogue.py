"""The app's named kernels, as data: the 1-D factors, the classic 2-D kernels and the listing.

Derivative kernels follow one sign rule: **the response is positive where intensity increases
along the differentiated axis** (``sobel_x`` is positive across a dark-to-bright edge going left to
right). The lecture notes draw some kernels with the opposite sign (``1 0 -1``); those are kept
under their own keys (``vertical_edge``, ``horizontal_edge``, ``sobel_x_lecture``,
``scharr_x_lecture``) so that the worked examples reproduce exactly.

Sobel and Scharr are the integer kernels (not divided by 4 or 16). Separable kernels are built
from named 1-D factors (``np.outer(column, row)``), as scikit-image does, so the separability is
visible and the engine can run two 1-D passes.

:data:`CATALOGUE` lists every kernel in display order within its group; :mod:`kernels.library`
registers it.
"""

from __future__ import annotations

import numpy as np

from kernels.parametric import unit
from kernels.record import Kernel, frozen_array


def _outer(column: np.ndarray, row: np.ndarray) -> np.ndarray:
    return frozen_array(np.outer(column, row))


# --- 1-D factors ----------------------------------------------------------------------------------
# Each separable kernel below is np.outer(column_factor, row_factor). All these factors are small
# integers or powers of two, so the outer products are exact in float64.

#: Central difference, positive where intensity increases along the axis: [-1, 0, 1].
CENTRAL_DIFF = frozen_array([-1, 0, 1])
#: The lecture notes' difference, positive where intensity decreases: [1, 0, -1].
LECTURE_DIFF = frozen_array([1, 0, -1])
#: Second difference across a line: [-1, 2, -1] (positive on a one-pixel bright line).
SECOND_DIFF = frozen_array([-1, 2, -1])
#: Sobel's smoothing across the derivative: [1, 2, 1].
SOBEL_SMOOTH = frozen_array([1, 2, 1])
#: Scharr's smoothing (the integer weights used by OpenCV and the lecture notes): [3, 10, 3].
SCHARR_SMOOTH = frozen_array([3, 10, 3])
#: Prewitt's (unweighted) smoothing: [1, 1, 1].
PREWITT_SMOOTH = frozen_array([1, 1, 1])
#: Binomial 3-tap blur, [1, 2, 1] / 4 = [0.25, 0.5, 0.25].
BINOMIAL_3 = frozen_array(np.array([1, 2, 1]) / 4)
#: Binomial 5-tap blur, [1, 4, 6, 4, 1] / 16.
BINOMIAL_5 = frozen_array(np.array([1, 4, 6, 4, 1]) / 16)

# --- 2-D constants --------------------------------------------------------------------------------

#: d/dx, finds vertical edges: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]].
SOBEL_X = _outer(SOBEL_SMOOTH, CENTRAL_DIFF)
#: d/dy, finds horizontal edges: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]].
SOBEL_Y = _outer(CENTRAL_DIFF, SOBEL_SMOOTH)
#: d/dx: [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]].
SCHARR_X = _outer(SCHARR_SMOOTH, CENTRAL_DIFF)
#: d/dy: [[-3, -10, -3], [0, 0, 0], [3, 10, 3]].
SCHARR_Y = _outer(CENTRAL_DIFF, SCHARR_SMOOTH)
#: d/dx: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]].
PREWITT_X = _outer(PREWITT_SMOOTH, CENTRAL_DIFF)
#: d/dy: [[-1, -1, -1], [0, 0, 0], [1, 1, 1]].
PREWITT_Y = _outer(CENTRAL_DIFF, PREWITT_SMOOTH)
#: 4-neighbour Laplacian: [[0, 1, 0], [1, -4, 1], [0, 1, 0]].
LAPLACIAN_4 = frozen_array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
#: 8-neighbour Laplacian: [[1, 1, 1], [1, -8, 1], [1, 1, 1]].
LAPLACIAN_8 = frozen_array([[1, 1, 1], [1, -8, 1], [1, 1, 1]])


# --- the listing ----------------------------------------------------------------------------------

_NG = "Ng, Convolutional Neural Networks (deeplearning.ai), C4W1 'Edge detection'"
_KARN = "Karn 2016, An intuitive explanation of convolutional neural networks (ujjwalkarn.me)"
_POWELL = "Powell, Image Kernels explained visually (setosa.io/ev/image-kernels)"
_GW = "Gonzalez & Woods, Digital Image Processing, 4th ed."


def _fixed(key, name, group, weights, description, detects, reference, factors=None) -> Kernel:
    return Kernel(
        key=key,
        name=name,
        group=group,
        weights=weights,
        description=description,
        detects=detects,
        reference=reference,
        factors=factors,
    )


#: Every kernel of the app, in display order within each group: a fixed :class:`Kernel`, or the
#: key of a parametric family, which holds its place in the order.
CATALOGUE: tuple[Kernel | str, ...] = (
    # edges ------------------------------------------------------------------------------------
    _fixed(
        "vertical_edge",
        "Vertical edges (lecture: 1 0 -1)",
        "edges",
        np.outer(PREWITT_SMOOTH, LECTURE_DIFF),  # [[1, 0, -1]] * 3 rows
        "The lecture notes' vertical-edge filter: left column minus right column.",
        "vertical edges, positive where the left is brighter than the right (bright-to-dark going "
        "right), negative for dark-to-bright; it is minus prewitt_x",
        _NG,
        (PREWITT_SMOOTH, LECTURE_DIFF),
    ),
    _fixed(
        "horizontal_edge",
        "Horizontal edges (lecture: 1 1 1 / 0 0 0 / -1 -1 -1)",
        "edges",
        np.outer(LECTURE_DIFF, PREWITT_SMOOTH),
        "The lecture notes' horizontal-edge filter: top row minus bottom row.",
        "horizontal edges, positive where the top is brighter than the bottom, negative where the "
        "bottom is brighter; it is minus prewitt_y",
        _NG,
        (LECTURE_DIFF, PREWITT_SMOOTH),
    ),
    _fixed(
        "horizontal_lines",
        "Horizontal lines (-1 -1 -1 / 2 2 2 / -1 -1 -1)",
        "edges",
        np.outer(SECOND_DIFF, PREWITT_SMOOTH),
        "Twice the middle row minus the rows above and below: a vertical second difference.",
        "thin horizontal lines: positive on a bright line one pixel high, negative on a dark one, "
        "weak on plain edges and zero on flat areas and vertical ramps",
        f"{_KARN}; lecture notes ('Horizontal Edges')",
        (SECOND_DIFF, PREWITT_SMOOTH),
    ),
    _fixed(
        "sobel_x",
        "Sobel x (d/dx)",
        "edges",
        SOBEL_X,
        "Sobel d/dx [-1 0 1; -2 0 2; -1 0 1]: right column minus left column, middle row doubled.",
        "vertical edges (intensity changing left to right): positive where it increases to the "
        "right, negative where it decreases",
        f"Sobel & Feldman 1968, A 3x3 isotropic gradient operator for image processing; {_GW}, "
        "sec. 10.2",
        (SOBEL_SMOOTH, CENTRAL_DIFF),
    ),
    _fixed(
        "sobel_y",
        "Sobel y (d/dy)",
        "edges",
        SOBEL_Y,
        "Sobel d/dy [-1 -2 -1; 0 0 0; 1 2 1]: bottom row minus top row, middle column doubled.",
        "horizontal edges (intensity changing top to bottom): positive where it increases "
        "downwards, negative where it decreases",
        f"Sobel & Feldman 1968; {_GW}, sec. 10.2",
        (CENTRAL_DIFF, SOBEL_SMOOTH),
    ),
    _fixed(
        "sobel_x_lecture",
        "Sobel x, lecture sign (1 0 -1 / 2 0 -2 / 1 0 -1)",
        "edges",
        np.outer(SOBEL_SMOOTH, LECTURE_DIFF),
        "Sobel as drawn in the lecture notes [1 0 -1; 2 0 -2; 1 0 -1]: minus sobel_x.",
        "vertical edges, positive where intensity decreases to the right (bright left, dark right)",
        f"Sobel & Feldman 1968; {_NG}",
        (SOBEL_SMOOTH, LECTURE_DIFF),
    ),
    _fixed(
        "scharr_x",
        "Scharr x (d/dx)",
        "edges",
        SCHARR_X,
        "Scharr d/dx [-3 0 3; -10 0 10; -3 0 3]: like Sobel, weights tuned for rotation "
        "invariance.",
        "vertical edges (intensity changing left to right), in any orientation with a more even "
        "strength than Sobel: positive where intensity increases to the right",
        "Jähne, Scharr & Körkel 1999, Principles of filter design (Handbook of Computer Vision "
        "and Applications); Kroon 2009, Numerical optimization of kernel based image derivatives",
        (SCHARR_SMOOTH, CENTRAL_DIFF),
    ),
    _fixed(
        "scharr_y",
        "Scharr y (d/dy)",
        "edges",
        SCHARR_Y,
        "Scharr d/dy [-3 -10 -3; 0 0 0; 3 10 3]: bottom row minus top row, Scharr-weighted.",
        "horizontal edges (intensity changing top to bottom): positive where it increases "
        "downwards",
        "Jähne, Scharr & Körkel 1999; Kroon 2009",
        (CENTRAL_DIFF, SCHARR_SMOOTH),
    ),
    _fixed(
        "scharr_x_lecture",
        "Scharr x, lecture sign (3 0 -3 / 10 0 -10 / 3 0 -3)",
        "edges",
        np.outer(SCHARR_SMOOTH, LECTURE_DIFF),
        "Scharr as drawn in the lecture notes [3 0 -3; 10 0 -10; 3 0 -3]: minus scharr_x.",
        "vertical edges, positive where intensity decreases to the right (bright left, dark right)",
        "Jähne, Scharr & Körkel 1999; Kroon 2009; lecture notes",
        (SCHARR_SMOOTH, LECTURE_DIFF),
    ),
    _fixed(
        "prewitt_x",
        "Prewitt x (d/dx)",
        "edges",
        PREWITT_X,
        "Prewitt d/dx [-1 0 1; -1 0 1; -1 0 1]: right column minus left column, rows equal.",
        "vertical edges (intensity changing left to right): positive where it increases to the "
        "right",
        f"Prewitt 1970, Object enhancement and extraction; {_GW}, sec. 10.2",
        (PREWITT_SMOOTH, CENTRAL_DIFF),
    ),
    _fixed(
        "prewitt_y",
        "Prewitt y (d/dy)",
        "edges",
        PREWITT_Y,
        "Prewitt d/dy [-1 -1 -1; 0 0 0; 1 1 1]: bottom row minus top row, columns equal.",
        "horizontal edges (intensity changing top to bottom): positive where it increases "
        "downwards",
        f"Prewitt 1970; {_GW}, sec. 10.2",
        (CENTRAL_DIFF, PREWITT_SMOOTH),
    ),
    _fixed(
        "sobel_ne",
        "Sobel diagonal (d/d north-east)",
        "edges",
        [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
        "Diagonal Sobel [0 1 2; -1 0 1; -2 -1 0]: top-right corner minus bottom-left corner.",
        "diagonal edges running top-left to bottom-right (\\): positive where intensity increases "
        "towards the top right",
        f"{_GW}, sec. 10.2 (diagonal Sobel masks)",
    ),
    _fixed(
        "sobel_se",
        "Sobel diagonal (d/d south-east)",
        "edges",
        [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
        "Diagonal Sobel [-2 -1 0; -1 0 1; 0 1 2]: bottom-right corner minus top-left corner.",
        "diagonal edges running bottom-left to top-right (/): positive where intensity increases "
        "towards the bottom right",
        f"{_GW}, sec. 10.2 (diagonal Sobel masks)",
    ),
    _fixed(
        "roberts_se",
        "Roberts cross (d/d south-east, 2x2)",
        "edges",
        [[-1, 0], [0, 1]],
        "Roberts [-1 0; 0 1]: the pixel down-right minus the pixel itself (Roberts drew it "
        "negated).",
        "diagonal edges running bottom-left to top-right (/), from the smallest possible window: "
        "positive where intensity increases towards the bottom right",
        "Roberts 1963, Machine perception of three-dimensional solids (MIT PhD thesis)",
    ),
    _fixed(
        "roberts_sw",
        "Roberts cross (d/d south-west, 2x2)",
        "edges",
        [[0, -1], [1, 0]],
        "Roberts [0 -1; 1 0]: the pixel below minus the pixel to the right (Roberts drew it "
        "negated).",
        "diagonal edges running top-left to bottom-right (\\): positive where intensity increases "
        "towards the bottom left",
        "Roberts 1963",
    ),
    _fixed(
        "laplacian_4",
        "Laplacian (4-neighbour)",
        "edges",
        LAPLACIAN_4,
        "Laplacian [0 1 0; 1 -4 1; 0 1 0]: the 4 neighbours minus 4 times the pixel.",
        "edges and fine detail in every direction (second derivative): negative on the bright side "
        "of an edge, positive on the dark side, zero on flat areas and linear ramps",
        f"{_GW}, sec. 3.6 (the Laplacian)",
    ),
    _fixed(
        "laplacian_8",
        "Laplacian (8-neighbour)",
        "edges",
        LAPLACIAN_8,
        "Laplacian [1 1 1; 1 -8 1; 1 1 1]: the 8 neighbours minus 8 times the pixel.",
        "edges and fine detail in every direction, diagonals included: negative on the bright side "
        "of an edge, positive on the dark side, zero on flat areas and linear ramps",
        f"{_GW}, sec. 3.6 (the Laplacian)",
    ),
    _fixed(
        "outline",
        "Outline (-1 -1 -1 / -1 8 -1 / -1 -1 -1)",
        "edges",
        -LAPLACIAN_8,
        "8 times the pixel minus its 8 neighbours: minus the 8-neighbour Laplacian.",
        "outlines in every direction: positive on the bright side of an edge and on bright dots, "
        "zero on flat areas",
        f"{_POWELL}; {_KARN}; lecture notes ('Edges')",
    ),
    "log",

    # smoothing --------------------------------------------------------------------------------
    "box",
    _fixed(
        "gaussian_3x3",
        "Gaussian blur 3x3 (1/16, binomial)",
        "smoothing",
        np.outer(BINOMIAL_3, BINOMIAL_3),  # 0.0625 0.125 0.0625 / 0.125 0.25 0.125 / ...
        "The lecture notes' blur 1/16 * [1 2 1; 2 4 2; 1 2 1]: exactly 0.0625, 0.125 and 0.25.",
        "nothing sharp: smooths noise, the centre pixel counting 4 times a corner",
        f"{_GW}, sec. 3.5; lecture notes (the worked example 206, 205, 247 ... -> 178)",
        (BINOMIAL_3, BINOMIAL_3),
    ),
    "gaussian",
    "motion_blur",

    # sharpening -------------------------------------------------------------------------------
    _fixed(
        "sharpen",
        "Sharpen (0 -1 0 / -1 5 -1 / 0 -1 0)",
        "sharpening",
        [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        "Sharpen [0 -1 0; -1 5 -1; 0 -1 0]: the identity minus the 4-neighbour Laplacian.",
        "edges and fine detail, exaggerated: the image plus its edges (weights sum to 1, so flat "
        "areas keep their value)",
        f"{_POWELL}; {_GW}, sec. 3.6",
    ),
    _fixed(
        "unsharp_5x5",
        "Unsharp mask 5x5",
        "sharpening",
        2 * np.outer(unit(5), unit(5)) - np.outer(BINOMIAL_5, BINOMIAL_5),
        "2 x image - 5x5 binomial blur = -1/256 * [1 4 6 4 1; 4 16 24 16 4; 6 24 -476 24 6; ...].",
        "edges and texture, boosted by adding back what a blur removes (weights sum to 1, so flat "
        "areas keep their value)",
        f"{_GW}, sec. 3.6 (unsharp masking)",
    ),

    # other ------------------------------------------------------------------------------------
    "identity",
    _fixed(
        "emboss",
        "Emboss (-2 -1 0 / -1 1 1 / 0 1 2)",
        "other",
        [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
        "Emboss [-2 -1 0; -1 1 1; 0 1 2]: the pixel plus a diagonal derivative, a raised relief.",
        "diagonal brightness changes: brighter where intensity increases towards the bottom right, "
        "darker where it decreases (weights sum to 1, so flat areas keep their value)",
        _POWELL,
    ),
)
