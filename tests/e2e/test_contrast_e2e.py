"""Honest contrast in the filter lab, in a real browser: Sobel x on a sample photo at 1024 px
and on a 12-megapixel upload at full resolution. The colour bar states what the colour limits
clip beside the real minimum and maximum; at full resolution the panel says that the map was
reduced by the largest |x| per block. Screenshots at 1280x720 and 1920x1080 are left in
tests/e2e/artifacts/contrast/ (:func:`contrast_screens` takes the same ones of any server,
e.g. of an older checkout, for a before/after comparison).
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.e2e.harness import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

FIGURE = ".st-key-lab-figure .js-plotly-plot"
SIZES = ((1280, 720), (1920, 1080))


def twelve_mp_photo(path: Path) -> Path:
    """A 4000 x 3000 JPEG with what a phone photo has at full resolution: a smooth scene
    (the coffee sample enlarged), fine one-pixel lines (wires, a fence) and a little noise."""
    from conv import image, samples

    rgb = image.decode(samples.load_sample("coffee")).rgb
    im = Image.fromarray(rgb).resize((4000, 3000), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(im)
    for k in range(12):  # wires across the picture
        y = 180 + 220 * k
        d.line([(0, y), (4000, y + 140 - 25 * k)], fill=(20, 20, 20), width=1)
    for x in range(2600, 3900, 37):  # a fence of thin posts
        d.line([(x, 2200), (x, 2950)], fill=(235, 235, 235), width=1)
    a = np.asarray(im).astype(np.float32)
    a += np.random.default_rng(5).normal(0, 2.0, a.shape).astype(np.float32)
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=92)
    return path


def _token(pg) -> str:
    return pg.evaluate(f"""() => {{ const g = document.querySelector('{FIGURE}');
        return g && g.layout && g.layout.meta ? g.layout.meta.token : ''; }}""")


def _wait_figure(pg, contains: str = "", old: str | None = None) -> str:
    pg.wait_for_function(
        f"""([contains, old]) => {{ const g = document.querySelector('{FIGURE}');
            const t = g && g.layout && g.layout.meta && g.layout.meta.token;
            return t && t.includes(contains) && t !== old
                && !g.__busy && g.__next == null; }}""", arg=[contains, old], timeout=240_000)
    wait_for_app(pg, timeout=240_000)
    return _token(pg)


def _figure_texts(pg) -> dict:
    """The right panel's colour bar title and the mapping sentences under the panels."""
    return pg.evaluate(f"""() => {{
        const g = document.querySelector('{FIGURE}');
        const bars = g.data.map((t) => t.marker && t.marker.colorbar || t.colorbar).filter(Boolean);
        return {{ bar: bars.length ? bars[0].title.text : '',
                  ticks: bars.length ? bars[0].ticktext || [] : [],
                  notes: (g.layout.annotations || []).map((a) => a.text) }};
    }}""")


def contrast_screens(browser, url: str, out: Path, prefix: str, photo: Path) -> dict:
    """Screenshots of Sobel x (the lab's default kernel) on the coffee sample at 1024 px and
    on ``photo`` at full resolution, at each of :data:`SIZES`; returns the figures' texts."""
    out.mkdir(parents=True, exist_ok=True)
    texts = {}
    for w, h in SIZES:
        context = browser.new_context(viewport={"width": w, "height": h})
        pg = context.new_page()
        pg.set_default_timeout(240_000)
        try:
            pg.goto(f"{url}/filter-lab?img=photo:coffee")
            wait_for_app(pg, timeout=240_000)
            token = _wait_figure(pg, "photo:coffee")
            pg.locator(".st-key-lab-figure").scroll_into_view_if_needed()
            pg.screenshot(path=str(out / f"{prefix}-coffee-1024-{w}x{h}.png"))
            texts[f"coffee-{w}"] = _figure_texts(pg)
            sidebar = pg.locator('[data-testid="stSidebar"]')
            sidebar.locator(".st-key-lab-src").get_by_text("Upload", exact=True).click()
            wait_for_app(pg)
            sidebar.locator('input[type="file"]').set_input_files(str(photo))
            token = _wait_figure(pg, "upload:", token)
            sidebar.locator(".st-key-lab-res").get_by_text("full", exact=True).click()
            token = _wait_figure(pg, "@None", token)
            pg.locator(".st-key-lab-figure").scroll_into_view_if_needed()
            pg.screenshot(path=str(out / f"{prefix}-12mp-full-{w}x{h}.png"))
            texts[f"12mp-{w}"] = _figure_texts(pg)
        finally:
            context.close()
    return texts


def test_sobel_contrast_states_its_clipping_and_keeps_thin_edges(browser, app_url, tmp_path):
    photo = twelve_mp_photo(tmp_path / "IMG_12MP.jpg")
    texts = contrast_screens(browser, app_url, ARTIFACTS / "contrast", "after", photo)
    for key, t in texts.items():
        assert "min " in t["bar"] and "max " in t["bar"], key
        assert "clipped:" in t["bar"], key
        assert t["ticks"][0].startswith("≤") and t["ticks"][-1].startswith("≥"), key
        assert any("percentile of |x|" in n for n in t["notes"]), key
    for key in ("12mp-1280", "12mp-1920"):
        notes = " ".join(n.replace("<br>", " ") for n in texts[key]["notes"])
        assert "of 4000 x 3000" in notes and "largest |x|" in notes, notes
