"""Budgets of the sliding-window animation, each printed next to its target.

    python bench/bench_animation.py

- a 32x32 patch with a 3x3 kernel, "same" padding (1,024 frames): figure JSON <= 0.5 MB, built
  in <= 300 ms (median of 5, from the engine's stages to the figure), playing at >= 15 frames
  per second in headless Chromium (a standalone HTML page of the figure with plotly.js bundled
  offline, Play at full speed, frames counted from plotly's ``plotly_animatingframe`` events);
- the 6x6 example page interactive within 3 s of opening (``streamlit run app.py``, from
  navigation to the figure drawn and the script finished), on the server's first load and on
  a later one.

Chromium is /usr/bin/chromium (or $CHROMIUM). The machine is shared: figures move by 20-30%
between runs.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conv import stages
from conv.stages import ConvSpec
from kernels import library
from viz import animation

JSON_TARGET = 500_000
BUILD_TARGET_MS = 300.0
FPS_TARGET = 15.0
TTI_TARGET_S = 3.0
FPS_FRAMES = 400  # frames counted for the rate (all 1,024 would take ~25 s)


def patch_case():
    x = np.random.default_rng(0).integers(0, 256, (1, 32, 32)).astype(np.float32)
    spec = ConvSpec.from_kernel(library.get("gaussian_3x3").weights, padding="same")
    return x, spec


def row(what: str, value: str, target: str, ok: bool) -> None:
    print(f"{what:<52} {value:>14}   target {target:<12} {'ok' if ok else 'MISSED'}")


def build_and_size():
    x, spec = patch_case()
    run = stages.run(x, spec)
    times = []
    fig = None
    for _ in range(5):
        t = time.perf_counter()
        fig = animation.conv_animation(run, spec).figure(0)
        times.append((time.perf_counter() - t) * 1e3)
    d = fig.to_dict()
    size = len(pio.to_json(fig, validate=False).encode())
    row("frames (32x32 patch, 3x3 kernel, same padding)", f"{len(d['frames'])}", "1024",
        len(d["frames"]) == 1024)
    row("figure JSON", f"{size / 1e6:.3f} MB", "<= 0.5 MB", size <= JSON_TARGET)
    build = statistics.median(times)
    row("build time, engine stages -> figure (median of 5)", f"{build:.0f} ms",
        f"<= {BUILD_TARGET_MS:.0f} ms", build <= BUILD_TARGET_MS)
    return fig


def browser():
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        print("no Chromium: browser figures skipped")
        return None, None
    p = sync_playwright().start()
    return p, p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


def fps(fig, b) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "figure.html"
        html.write_text(pio.to_html(fig, include_plotlyjs=True, full_html=True, div_id="g",
                                    default_width="1150px"))
        page = b.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(html.as_uri())
        page.wait_for_function("() => document.getElementById('g')._fullLayout !== undefined")
        result = page.evaluate("""(n) => new Promise(resolve => {
          const g = document.getElementById('g');
          let count = 0, t0 = null;
          g.on('plotly_animatingframe', () => {
            count += 1;
            if (count === 1) t0 = performance.now();
            if (count === n + 1) {
              const dt = (performance.now() - t0) / 1000;
              Plotly.animate(g, [null], {mode: 'immediate'});
              resolve({frames: n, seconds: dt});
            }
          });
          Plotly.animate(g, null, {mode: 'immediate', frame: {duration: 0, redraw: false},
                                   transition: {duration: 0}});
        })""", FPS_FRAMES)
        page.close()
    rate = result["frames"] / result["seconds"]
    row(f"playback, headless Chromium ({FPS_FRAMES} frames, Fast)", f"{rate:.1f} fps",
        f">= {FPS_TARGET:.0f} fps", rate >= FPS_TARGET)


FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st
st.title("floor")
st.plotly_chart(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])))
"""


def floor(b) -> None:
    """The same measure for a one-chart Streamlit app: what any page with a Plotly chart costs
    on this machine (Streamlit's boot and its lazily loaded plotly.js)."""
    from tests.e2e.harness import start_streamlit, stop

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "floor_app.py"
        script.write_text(FLOOR_APP)
        proc, url = start_streamlit(str(script))
        try:
            times = []
            for _ in range(2):
                ctx = b.new_context(viewport={"width": 1920, "height": 1080})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
                times.append(time.perf_counter() - t)
                ctx.close()
        finally:
            stop(proc)
    print(f"{'  for scale: a one-chart Streamlit app on this machine':<52} "
          f"{min(times):>12.2f} s")


def time_to_interactive(b) -> None:
    from tests.e2e.harness import start_streamlit, stop

    proc, url = start_streamlit()
    try:
        for label in ("first load", "later load"):
            ctx = b.new_context(viewport={"width": 1920, "height": 1080})
            page = ctx.new_page()
            page.set_default_timeout(60_000)
            t = time.perf_counter()
            page.goto(f"{url}/sliding-window?ex=edge_6x6")
            page.wait_for_selector(".js-plotly-plot .annotation-text")
            page.wait_for_function("""() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.getAttribute('data-test-script-state') !== 'running'; }""")
            page.locator("g.updatemenu-button", has_text="Step").first.wait_for()
            seconds = time.perf_counter() - t
            ctx.close()
            row(f"6x6 example page interactive ({label})", f"{seconds:.2f} s",
                f"<= {TTI_TARGET_S:.0f} s", seconds <= TTI_TARGET_S)
    finally:
        stop(proc)


def main() -> None:
    print(f"{'what':<52} {'measured':>14}   {'target':<19}")
    fig = build_and_size()
    p, b = browser()
    if b is None:
        return
    try:
        fps(fig, b)
        time_to_interactive(b)
        floor(b)
    finally:
        b.close()
        p.stop()


if __name__ == "__main__":
    main()
