"""Frozen figures: the same ready-made dict every time, encoding to exactly the figure's JSON."""

import decimal
import json

import numpy as np
import orjson
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import pytest

from conv import stages
from conv.stages import ConvSpec
from viz import animation, training
from viz.frozen import FrozenFigure, freeze

PLOTLY_FAST_PATH = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _marshalled(fig) -> str:
    """The spec ``st.plotly_chart`` sends for ``fig`` (its two calls, in its order)."""
    return pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True),
                       validate=False)


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def _animation(n: int = 6) -> animation.Animation:
    x = np.arange(n * n, dtype=np.float32).reshape(1, n, n) % 7
    spec = ConvSpec(weight=np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), padding=1)
    return animation.conv_animation(stages.run(x, spec), spec)


FIGURES = {
    "heatmap": lambda: training.kernel_comparison_figure(np.eye(3), np.ones((3, 3))),
    "loss": lambda: training.loss_figure(np.exp(-np.arange(50) / 9.0), floor=1e-3),
    "frames": lambda: training.kernel_evolution_figure([(0, np.zeros((3, 3))),
                                                         (5, np.eye(3))]),
    "animation": lambda: _animation().figure(4),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_frozen_figure_sends_exactly_the_figures_json(name):
    fig = FIGURES[name]()
    frozen = freeze(fig)
    assert _marshalled(frozen) == _marshalled(fig)


@pytest.mark.parametrize("name", list(FIGURES))
def test_frozen_figure_returns_one_dict_that_orjson_encodes_without_cleaning(name):
    frozen = freeze(FIGURES[name]())
    assert frozen.to_dict() is frozen.to_dict() is frozen.to_plotly_json()
    orjson.dumps(frozen.to_dict(), option=PLOTLY_FAST_PATH)  # plotly's first, uncleaned try


def test_what_orjson_cannot_encode_is_converted_once():
    fig = go.Figure(go.Scatter(x=[decimal.Decimal("1.5"), 2], y=[1, 2]))
    with pytest.raises(TypeError):
        orjson.dumps(fig.to_dict(), option=PLOTLY_FAST_PATH)
    frozen = freeze(fig)
    orjson.dumps(frozen.to_dict(), option=PLOTLY_FAST_PATH)
    assert _marshalled(frozen) == _marshalled(fig)


def test_freeze_is_idempotent_and_accepted_as_a_figure():
    frozen = freeze(FIGURES["loss"]())
    assert freeze(frozen) is frozen
    assert isinstance(frozen, go.Figure) and isinstance(frozen, FrozenFigure)


def test_shared_parts_are_kept_and_not_charged():
    anim = _animation(8)
    own = freeze(anim.figure(3))
    shared = FrozenFigure(anim.spec(3), shared=(*anim.data_spec, *anim.frames))
    assert shared.to_dict()["frames"][5] is anim.frames[5]  # the animation's, not a copy
    assert _json(shared) == _json(own)
    frames = sum(len(orjson.dumps(f)) for f in anim.frames)
    assert shared.nbytes < own.nbytes - frames  # at least their JSON's worth less
    assert shared.nbytes > len(orjson.dumps(shared.to_dict()["layout"]))
