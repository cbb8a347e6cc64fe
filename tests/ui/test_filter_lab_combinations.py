"""Random combinations of the filter lab's settings, opened as links: never a traceback, and the
output shape the page states is the one the output-size formula gives (computed here, from the
formula, not by the app's code), or the page says why the layer cannot exist.

The combinations are drawn with a fixed seed, so a failure names a link that reproduces it.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "ui/pages/filter_lab.py"

# (query, kernel size): presets of known sizes (odd, even, large), and a bank partner for 3x3
KERNELS = [({"k": "sobel_x"}, 3), ({"k": "sobel_x", "bank": "sobel_y"}, 3),
           ({"k": "laplacian_8"}, 3), ({"k": "gaussian", "ks": "7"}, 7),
           ({"k": "box", "ks": "2"}, 2), ({"k": "box", "ks": "4"}, 4),
           ({"k": "gaussian", "ks": "15"}, 15)]
IMAGES = ["synthetic:lecture_6x6", "synthetic:checkerboard", "photo:chelsea", "photo:coffee"]


def _conv_size(n: int, k: int, pad: str, p: int, s: int, d: int) -> int:
    span = d * (k - 1) + 1
    if pad == "same":
        return n if s == 1 else math.ceil(n / s)
    total = {"valid": 0, "full": 2 * (span - 1), "custom": 2 * p}[pad]
    return (n + total - span) // s + 1


def _padding_total(n: int, k: int, pad: str, p: int, s: int, d: int) -> int:
    span = d * (k - 1) + 1
    if pad == "same":
        out = n if s == 1 else math.ceil(n / s)
        return max((out - 1) * s + span - n, 0)
    return {"valid": 0, "full": 2 * (span - 1), "custom": 2 * p}[pad]


def _expected(h: int, w: int, k: int, q: dict) -> tuple[int, int] | None:
    """The output (H, W), or None when the layer cannot exist."""
    pad, p = q["pad"], int(q.get("ph", 0))
    s, d = int(q["s"]), int(q["d"])
    if pad == "custom" and p == 0:
        pad = "valid"
    sizes = []
    for n in (h, w):
        total = _padding_total(n, k, pad, p, s, d)
        if q["pm"] == "reflect" and total and (total + 1) // 2 >= n:
            return None  # reflect padding must be smaller than the input
        if q["pm"] == "circular" and total and (total + 1) // 2 > n:
            return None  # circular padding may not wrap more than once
        out = _conv_size(n, k, pad, p, s, d)
        if out < 1:
            return None
        if q["pool"] != "none":
            pk = int(q["pk"])
            ps = int(q["ps"]) or pk
            if pk > out:
                return None
            out = (out - pk) // ps + 1
        sizes.append(out)
    return sizes[0], sizes[1]


def _combinations(n: int, seed: int = 20261122) -> list[tuple[dict, int]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kq, k = rnd.choice(KERNELS)
        q = {"img": rnd.choice(IMAGES), "res": "256", "colour": rnd.choice(["gray", "rgb"]),
             **kq,
             "pad": rnd.choice(["valid", "same", "full", "custom"]),
             "pm": rnd.choice(["zeros", "reflect", "replicate", "circular"]),
             "s": str(rnd.choice([1, 1, 2, 3, 7, 64, 256])),
             "d": str(rnd.choice([1, 1, 2, 5, 32])),
             "b": str(rnd.choice([0, -50, 12.5])),
             "act": rnd.choice(["identity", "relu", "leaky_relu", "sigmoid", "tanh", "abs"]),
             "pool": rnd.choice(["none", "max", "avg"]),
             "pk": str(rnd.choice([1, 2, 3, 8, 32])),
             "ps": str(rnd.choice([0, 1, 2, 5]))}
        if q["pad"] == "custom":
            q["ph"] = q["pw"] = str(rnd.choice([0, 1, 3, 40]))
        out.append((q, k))
    return out


@pytest.mark.parametrize(("query", "k"), _combinations(40),
                         ids=lambda v: "&".join(f"{a}={b}" for a, b in v.items())
                         if isinstance(v, dict) else str(v))
def test_any_combination_gives_the_formula_s_shape_or_a_reason(query, k):
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()  # "/" switches to the filter lab with the link's query (app.py)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning, [x.value for x in at.warning]  # every value of the link was taken
    caption = " ".join(c.value for c in at.caption)
    w, h = map(int, re.search(r"Computed on (\d+) x (\d+) pixels", caption).groups())
    expected = _expected(h, w, k, query)
    errors = " | ".join(e.value for e in at.error)
    views = [e for e in at.get("bidi_component") if e.proto.id.endswith("-lab.arith")]
    found = views and re.search(r'data-label="Output H x W x C">.*?class="lab-metric-value">'
                                r'(.*?)</div>', views[0].proto.bytes.decode())
    shown = found.group(1) if found else None
    if expected is None:
        assert errors, f"{h} x {w}: the layer cannot exist, and the page should say why"
        assert "Traceback" not in errors
    else:
        assert not errors, errors
        maps = 2 if "bank" in query else 1
        assert shown == f"{expected[0]} x {expected[1]} x {maps}"
