"""The sliding window's caches (``ui/window_view.py``): what keys a figure, and what it holds."""

import json

import numpy as np
import plotly.io as pio
import pytest

from conv import examples, stages
from conv.stages import ConvSpec, PoolSpec
from ui import cache
from ui import window_view as wv
from viz import animation


def _spec(**kw) -> ConvSpec:
    return ConvSpec(weight=np.array([[[[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]]]), **kw)


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def _grid(seed: int = 0, n: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 10, (1, n, n)).astype(np.float32)


def test_an_unchanged_configuration_gets_the_same_figure_object():
    data, shape = wv.key_of(_grid())
    a = wv.conv_figure(data, shape, _spec(), False, 2)
    again = wv.key_of(_grid())[0]  # equal bytes, another object: as on every rerun
    assert again is not data
    assert wv.conv_figure(again, shape, _spec(), False, 2) is a
    assert a.to_dict() is wv.conv_figure(data, shape, _spec(), False, 2).to_dict()


@pytest.mark.parametrize("change", ["data", "spec", "classroom", "start"])
def test_the_figure_key_holds_everything_the_figure_depends_on(change):
    data, shape, spec, classroom, start = *wv.key_of(_grid()), _spec(bias=(1.0,)), False, 3
    base = wv.conv_figure(data, shape, spec, classroom, start)
    if change == "data":
        data, shape = wv.key_of(_grid(seed=1))
    elif change == "spec":
        spec = _spec(bias=(2.0,))
    elif change == "classroom":
        classroom = True
    else:
        start = 4
    other = wv.conv_figure(data, shape, spec, classroom, start)
    assert other is not base
    x = np.frombuffer(data, np.float32).reshape(shape)
    fresh = animation.conv_animation(stages.run(x, spec), spec,
                                     classroom=classroom).figure(start)
    assert _json(other) == _json(fresh)
    assert _json(other) != _json(base)


def test_pool_figures_are_cached_per_configuration_and_step():
    ex = examples.get("pool_4x4")
    data, shape = wv.key_of(ex.input_array)
    pool = PoolSpec(kernel_size=2, mode="max")
    first = wv.pool_figure(data, shape, None, pool, False, 1)
    assert wv.pool_figure(data, shape, None, pool, False, 1) is first
    assert wv.pool_figure(data, shape, None, pool, False, 2) is not first
    assert wv.pool_figure(data, shape, None, PoolSpec(kernel_size=2, mode="avg"), False,
                          1) is not first


def test_cached_values_are_charged_to_the_byte_budget():
    data, shape = wv.key_of(_grid(seed=7, n=9))
    before = cache.stats().used
    anim = wv.conv_anim(data, shape, _spec(padding="same"), False)
    fig = wv.conv_figure(data, shape, _spec(padding="same"), False, 0)
    after = cache.stats().used
    # the run, the animation and the figure (whose frames are the animation's, not charged)
    assert after - before >= anim.nbytes + fig.nbytes
    assert fig.nbytes < anim.nbytes


@pytest.mark.parametrize("n,padding", [(4, "valid"), (12, "same"), (32, "valid")])
def test_an_animations_declared_size_is_close_to_its_measured_size(n, padding):
    spec = _spec(padding=padding)
    anim = animation.conv_animation(stages.run(_grid(n=n), spec), spec)
    exact = cache.sizeof(anim)
    assert wv.measured(anim).nbytes == pytest.approx(exact, rel=0.1)
    assert cache.sizeof(anim) == anim.nbytes  # what the byte budget charges


def test_a_photos_gray_and_thumbnail_are_made_once_per_photo_and_box():
    import io

    from PIL import Image

    from ui.media import jpeg

    pic = wv.photo("chelsea")
    assert pic.key == "sample:chelsea"
    gray = wv.photo_gray(pic)
    assert wv.photo_gray(wv.photo("chelsea")) is gray
    assert gray.shape == pic.rgb.shape[:2]
    box = (10, 20, 110, 120)
    thumb = wv.thumbnail_jpeg(pic, box)
    assert wv.thumbnail_jpeg(wv.photo("chelsea"), box) is thumb
    assert thumb == jpeg(wv.thumbnail(pic.rgb, box))
    assert wv.thumbnail_jpeg(pic, (12, 20, 112, 120)) != thumb
    assert wv.thumbnail_jpeg(wv.photo("coffee"), box) != thumb
    assert Image.open(io.BytesIO(thumb)).width == 420
