"""bench/bench_classroom.py: the students' query strings are links the pages accept.

Every configuration the simulated students send is applied through the page's own URL
parsers (``UrlState``'s ``Param.parse``) without a notice, names only the page's parameters,
and describes a layer the engine can apply (``conv.ops.check_conv_args``), so a benchmark's
error count measures the server, not the benchmark. No timings here.
"""

import random
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from bench import bench_classroom as bc
from conv import ops
from conv.network_presets import PRESETS
from kernels import library
from ui import arithmetic_view, kernel_controls, lab_state
from ui import window_view as wv
from ui.state import SHARED, flag

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CHAINS, STEPS = 12, 40  # students x changes each


def _chains(page, first, **kw):
    """Configurations of STEPS changes from ``first``, for CHAINS seeded students."""
    out = []
    for seed in range(CHAINS):
        rng, cfg = random.Random(seed), dict(first)
        for _ in range(STEPS):
            change = bc.next_change(rng, page, cfg, **kw)
            cfg = change.cfg
            out.append((change.query, cfg))
    return out


def _parse_all(query, url_state):
    """Parse each parameter with the page's parser; returns {name: value}."""
    params = {p.name: p for p in url_state.params}
    values = {}
    for name, text in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if name in SHARED:  # every page's (classroom mode: ui/classroom.py)
            flag(text)
            continue
        assert name in params, f"{name!r} is not a parameter of the page ({query})"
        values[name] = params[name].parse(text)  # ValueError = a notice on the page
    return values


def _conv_ok(n, k, cfg, defaults):
    get = lambda name: cfg.get(name, defaults[name])
    pad = get("pad")
    padding = (int(get("ph")), int(get("pw"))) if pad == "custom" else pad
    h, w = ops.check_conv_args(
        (1, n, n), (1, 1, k, k), stride=int(get("s")), padding=padding,
        dilation=int(get("d")), padding_mode=get("pm")).out_shape
    if get("pool") != "none":
        assert int(get("pk")) <= min(h, w), f"pool window larger than the map: {cfg}"


def test_query_names_follow_the_pages_declaration_order():
    assert bc.LAB_ORDER == tuple(p.name for p in lab_state.url_state().params)
    assert bc.SW_ORDER == tuple(p.name for p in wv.url_state().params)


def test_kernel_sizes_are_the_librarys():
    for key, side in bc.LAB_FIXED.items():
        assert library.get(key).shape == (side, side), key
    for key, (sizes, default) in bc.LAB_PARAMETRIC.items():
        spec = library.PARAMETRIC[key]
        assert set(sizes) <= set(spec.sizes) and default == spec.default_size, key
    assert set(bc.TAKES_SIGMA) == {k for k, s in library.PARAMETRIC.items() if s.takes_sigma}
    assert set(bc.LAB_KERNEL_PICKS) | set(bc.BANK_PICKS) <= set(kernel_controls.preset_keys())


@pytest.mark.parametrize("fixed, first", [
    ((), bc.TEACHER["lab"]),
    (("img", "res"), {"img": "upload", "res": "full"}),  # the upload phase
])
def test_filter_lab_queries_parse_and_apply(fixed, first):
    url = lab_state.url_state()
    seen = set()
    for query, cfg in _chains("lab", first, fixed=fixed):
        values = _parse_all(query, url)
        seen.update(values)
        k = cfg.get("k", "sobel_x")
        spec = library.PARAMETRIC.get(k)
        if spec is not None and "ks" in cfg:  # after_restore: a size the preset offers
            assert int(cfg["ks"]) in spec.sizes
        if "sigma" in cfg:
            assert values["sigma"] <= 10.0
        side = bc.lab_kernel_side(cfg)
        bank = values.get("bank", [])
        candidates = kernel_controls.bank_candidates((side, side))
        assert all(b in candidates for b in bank), (bank, side)
        n = 6 if cfg.get("img") == "synthetic:lecture_6x6" else 100
        _conv_ok(n, side, cfg, bc.LAYER_DEFAULTS)
        for name in fixed:
            assert cfg[name] == first[name]
    assert {"k", "b", "s", "pad", "act", "pool"} <= seen  # the chains do change the layer


def test_sliding_window_queries_parse_and_apply():
    url = wv.url_state()
    names = {p.key: p.name for p in url.params}
    for query, cfg in _chains("window", bc.TEACHER["window"]):
        _parse_all(query, url)
        ex = cfg.get("ex", "edge_6x6")
        if ex == "pool_4x4":
            assert cfg.get("pool", "max") != "none"  # the example is about pooling
            continue
        n, k, defaults = bc.sw_geometry(cfg)
        _conv_ok(n, k, cfg, defaults)
        if "step" in cfg:
            assert 1 <= int(cfg["step"]) <= bc.sw_steps(cfg)
    # the settings each example implies when the link leaves them out (window_view)
    for ex, implied in bc.SW_IMPLIED.items():
        settings = wv.example_settings(ex)
        for key, value in settings.items():
            name = names.get(key)
            if name in ("pad", "ph", "pw", "s", "pool", "pk", "k") and value is not None:
                default = {**bc.LAYER_DEFAULTS, "k": "vertical_edge"}[name]
                assert implied.get(name, default) == str(value), (ex, name)


def test_arithmetic_and_widget_pages():
    assert set(bc.ARITH_PRESETS) == set(PRESETS)
    for query, cfg in _chains("arith", bc.TEACHER["arith"]):
        key, notice = arithmetic_view.resolve_preset(dict(parse_qsl(query))["preset"])
        assert key == cfg["preset"] and not notice
    rng = random.Random(0)
    for page in ("inside", "learn"):
        for _ in range(50):
            change = bc.next_change(rng, page, {})
            assert change.query == "" and change.actions


def test_family_links_open_the_page_without_an_error():
    """Every configuration the simulated students send to the Convolution family page is one
    the page shows: no exception, no error, no notice about the link."""
    page = "ui/pages/family.py"
    seen = set()
    for query, _cfg in _chains("family", bc.TEACHER["family"])[:40]:
        if query in seen:
            continue
        seen.add(query)
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page(page)
        for name, value in parse_qsl(query, keep_blank_values=True):
            at.query_params[name] = value
        at.run()
        assert not at.exception, (query, [e.value for e in at.exception])
        assert not at.error, (query, [e.value for e in at.error])
        assert not any("link" in w.value for w in at.warning), (query, [w.value for w in at.warning])


def test_unique_photo_is_a_valid_jpeg_with_other_bytes():
    import io

    import numpy as np
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG")
    a, b = bc.unique_photo(buf.getvalue(), "a"), bc.unique_photo(buf.getvalue(), "b")
    assert a != b
    assert Image.open(io.BytesIO(a)).size == (8, 8)
