"""A class served by ``deploy/serve.py --replicas 2`` in a real browser: two students get their
own sessions, each on the replica its affinity cookie names, and upload photos through
HAProxy; a replica killed under a student leaves the page working after a reload, on the
other replica, with the settings restored from the URL, and the other student undisturbed;
SIGTERM stops everything serve.py started.

The three tests share one serve.py (a start takes a while on a loaded host) and run in order:
the last one stops it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.deploy.helpers import Served, get, gone, group_gone, haproxy_or_missing, wait_until
from tests.e2e.harness import screenshot, wait_for_app

pytestmark = pytest.mark.browser

FIGURE = ".st-key-lab-figure .js-plotly-plot"
LOAD = 120_000  # ms: a replica's first page compiles the engine (numba), slow on a loaded host


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory):
    """``python deploy/serve.py --replicas 2 --port P --stats P+3`` with real Streamlit replicas."""
    haproxy_or_missing()
    s = Served(tmp_path_factory.mktemp("serve"), stats=True)
    try:
        s.wait_ready(timeout=300)
    except BaseException:
        s.kill_all()
        raise
    yield s
    s.kill_all()


@contextlib.contextmanager
def students(browser, served, name: str):
    """Make browser pages (each its own context: its own cookies, as separate students); on a
    failure, save a screenshot of each and print serve.py's output (shown with the failure)."""
    contexts, pages = [], []

    def student(path: str = "/", replica: str | None = None):
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        if replica:  # this student's affinity cookie, as if HAProxy had set it
            ctx.add_cookies([{"name": served.state()["cookie"], "value": replica,
                              "url": served.url}])
        pg = ctx.new_page()
        pg.set_default_timeout(LOAD)
        pg.console_log, pg.ws_closed = [], []
        pg.on("console", lambda m: pg.console_log.append(f"{m.type}: {m.text}"))
        pg.on("websocket", lambda ws: ws.on("close", lambda _: pg.ws_closed.append(ws.url)))
        contexts.append(ctx)
        pages.append(pg)
        _open(pg, served.url + path)
        return pg

    try:
        yield student
    except BaseException:
        for i, pg in enumerate(pages):
            with contextlib.suppress(Exception):
                print(f"student {i}: {screenshot(pg, f'FAILED_{name}_{i}')}, console:",
                      *pg.console_log[-20:], sep="\n  ")
        print("serve.py's output (last 60 lines):", *served.output().splitlines()[-60:],
              sep="\n")
        raise
    finally:
        for ctx in contexts:
            with contextlib.suppress(Exception):
                ctx.close()


def _open(pg, url: str) -> None:
    pg.goto(url)
    _wait_figure(pg)


def _wait_figure(pg) -> None:
    wait_for_app(pg, timeout=LOAD)
    pg.wait_for_selector(f"{FIGURE} .main-svg image", timeout=LOAD)
    wait_for_app(pg, timeout=LOAD)


def _until(pg, what: str, condition, timeout: float = 60.0):
    """Poll ``condition()`` while letting the page's events in (sync Playwright delivers them,
    a websocket's close included, only during its own calls)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        pg.wait_for_timeout(100)
    return value


def _replica(pg, served) -> str:
    """The replica this page's affinity cookie names (HttpOnly: read from the context)."""
    name = served.state()["cookie"]
    values = [c["value"] for c in pg.context.cookies() if c["name"] == name]
    assert len(values) == 1, pg.context.cookies()
    return values[0]


def _token(pg) -> str:
    return pg.evaluate(
        f"() => {{ const g = document.querySelector('{FIGURE}');"
        " return g && g.layout && g.layout.meta ? g.layout.meta.token : ''; }")


def _settings(pg) -> tuple[str, str]:
    """What the page shows of its settings: the kernel's summary and the output's size."""
    kernel = pg.locator(".st-key-lab-kernel_open summary").first.inner_text().strip()
    size = pg.locator('.st-key-lab-arith .lab-metric[data-label="Output H x W x C"]'
                      " .lab-metric-value").inner_text().strip()
    return kernel, size


def _photo(tmp: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:300, 0:400]
    rgb = np.stack([xx * 255 // 400, yy * 255 // 300, np.full_like(xx, 90 + seed)], -1)
    rgb[100:200, 150:250] = 240
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    path = tmp / f"student_{seed}.png"
    Image.fromarray(rgb).save(path)
    return path


def _upload(pg, photo: Path) -> None:
    """Choose "Upload" in the sidebar and send ``photo``; wait for the figure to show it."""
    sidebar = pg.locator('[data-testid="stSidebar"]')
    file_input = sidebar.locator('input[type="file"]')
    for _ in range(3):  # a click on a control just drawn was seen lost under load
        sidebar.locator(".st-key-lab-src").get_by_text("Upload", exact=True).click()
        with contextlib.suppress(Exception):
            file_input.wait_for(state="attached", timeout=15_000)
            break
    wait_for_app(pg, timeout=LOAD)
    old = _token(pg)
    file_input.set_input_files(str(photo))
    pg.wait_for_function(
        f"""(old) => {{ const g = document.querySelector('{FIGURE}');
              return g && g.layout && g.layout.meta && g.layout.meta.token !== old
                     && g.layout.meta.token.startsWith('upload:'); }}""", arg=old, timeout=LOAD)
    wait_for_app(pg, timeout=LOAD)
    assert pg.locator('[data-testid="stCaptionContainer"]').filter(has_text=photo.name).count()


def _open_sessions(served) -> dict[str, int]:
    """Open sessions (connections) per replica, from HAProxy's statistics (CSV)."""
    status, body, _ = get(served.state()["stats"] + ";csv")
    assert status == 200, body
    header = body.splitlines()[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in body.splitlines()[1:] if line]
    return {r["svname"]: int(r["scur"]) for r in rows if r["pxname"] == "replicas"
            and r["svname"] not in ("FRONTEND", "BACKEND")}


def test_two_students_have_their_own_replica_and_upload_through_the_proxy(browser, served,
                                                                          tmp_path):
    with students(browser, served, "two_students") as student:
        a = student()
        first = _replica(a, served)  # HAProxy chose it and set the cookie
        assert first in ("r1", "r2")
        other = "r2" if first == "r1" else "r1"
        b = student(replica=other)  # the second student on the other replica
        assert _replica(b, served) == other  # HAProxy honoured the cookie (no new one)
        # each page's websocket is open on the replica its cookie names
        wait_until("a websocket open on each replica",
                   lambda: all(n >= 1 for n in _open_sessions(served).values()), timeout=60)
        for pg, seed in ((a, 1), (b, 2)):  # the upload reaches the replica holding the session
            _upload(pg, _photo(tmp_path, seed))
            assert pg.locator('[data-testid="stException"]').count() == 0
        assert (_replica(a, served), _replica(b, served)) == (first, other)
        assert a.ws_closed == [] and b.ws_closed == []
        screenshot(a, "serve_student_a_upload")


def test_a_dead_replicas_student_reloads_onto_the_other_with_the_settings(browser, served,
                                                                          tmp_path):
    with students(browser, served, "dead_replica") as student:
        a = student("/?k=sobel_y&s=2")
        victim = _replica(a, served)
        survivor = "r2" if victim == "r1" else "r1"
        b = student(replica=survivor)
        before = _settings(a)
        assert "Sobel y" in before[0], before
        assert "k=sobel_y" in a.url and "s=2" in a.url

        killed = served.replica(victim)
        os.killpg(killed["pid"], signal.SIGKILL)  # the replica's whole process group
        _until(a, "the student's websocket to close", lambda: a.ws_closed)

        # the student reloads: HAProxy sends the dead replica's cookie to the live one
        a.reload()
        _wait_figure(a)
        now = _replica(a, served)
        # (serve.py restarts the dead replica after 1 s: a reload on a slow host can find it
        # back under the old cookie; a fresh process then serves the page, also fine)
        restarted = served.replica(victim)["pid"] != killed["pid"]
        assert now == survivor or restarted, (now, served.state())
        print(f"after the reload: on {now}",
              "(the other replica)" if now == survivor else "(restarted)")
        assert _settings(a) == before  # Sobel y, stride 2: from the URL
        assert "k=sobel_y" in a.url and "s=2" in a.url
        assert a.locator('[data-testid="stException"]').count() == 0
        screenshot(a, "serve_student_a_after_failover")

        # the other student never noticed: same websocket, and the session still works
        assert b.ws_closed == []
        _upload(b, _photo(tmp_path, 3))
        assert b.ws_closed == [] and _replica(b, served) == survivor

        # serve.py reported the death and starts the replica again
        assert f"replica {victim} (pid {killed['pid']}, port {killed['port']}) exited" in (
            served.output())
        wait_until(f"{victim} restarted and healthy",
                   lambda: served.replica(victim)["state"] == "healthy"
                   and served.replica(victim)["pid"] != killed["pid"], timeout=300, every=0.5)


def test_sigterm_stops_everything_serve_started(served):
    pids = served.pids()
    assert len(pids) == 3  # haproxy and two replicas
    assert served.stop(timeout=90) == 0
    for pid in pids:
        assert gone(pid), f"pid {pid} still runs"
        assert group_gone(pid), f"a process of group {pid} still runs"
    with socket.socket() as s:  # nothing listens on the class's port any more
        assert s.connect_ex(("127.0.0.1", served.port)) != 0
    assert served.output().rstrip().endswith("stopped.")
