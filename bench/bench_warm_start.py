"""A fresh server's first visitor: from "healthy" to a page that works, in seconds.

Run: ``python bench/bench_warm_start.py [--rounds N]`` (needs Chromium and Playwright).

Each round starts ``streamlit run app.py`` as on a fresh clone (a copy of the working tree
without its ``__pycache__`` folders: no numba cache, no compiled bytecode of ours), waits
for ``/_stcore/health``, then opens the filter lab in headless Chromium and times until its
main figure is drawn (the first page interactive), then a kernel change on that page, then the
sliding window's first figure. Two ways of starting, alternated round by round:

- ``compile on first use`` (``CONVVIZ_WARM=0``): the engine's loops compile (numba) in the
  first script that needs them, holding the interpreter lock;
- ``background warm-up`` (the default, :mod:`conv.warm`): a child process compiles them on
  the other core while pages compute with numpy; the server says when the switch happened.

Target (DESIGN.md, issue 12): the first page interactive within 5 s of the server reporting
healthy on a fresh clone.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import CHROMIUM_ARGS, _free_port, chromium_path, wait_for_app  # noqa: E402

TARGET_S = 5.0
FIGURE = ".st-key-lab-figure .js-plotly-plot .main-svg image"
RANDOM = ".st-key-lab-k-do-random button"


def start(warm: bool, tmp: Path) -> tuple[subprocess.Popen, str, float, Path]:
    """A server as on a fresh clone; returns (process, url, seconds to healthy, its log)."""
    port = _free_port()
    app = tmp / "app"
    shutil.copytree(ROOT, app, ignore=shutil.ignore_patterns(
        "__pycache__", ".git", ".hypothesis", ".pytest_cache", "out", "artifacts"))
    env = dict(os.environ, PYTHONUNBUFFERED="1", CONVVIZ_WARM="1" if warm else "0")
    env.pop("NUMBA_CACHE_DIR", None)
    log = tmp / "server.log"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=app, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - t0 < 120:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.monotonic() - t0, log
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError("the server did not become healthy in 120 s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, 9)
        proc.wait()


def one_round(browser, warm: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="warm-bench-") as d:
        tmp = Path(d)
        proc, url, healthy, log = start(warm, tmp)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(120_000)
            t0 = time.monotonic()
            page.goto(url + "/")
            page.wait_for_selector(FIGURE)
            first = time.monotonic() - t0
            wait_for_app(page)
            page.locator(".st-key-lab-kernel_open summary").first.click()
            page.locator(RANDOM).first.wait_for()
            old = page.evaluate("() => document.querySelector('.st-key-lab-figure "
                                ".js-plotly-plot').layout.meta.token")
            t1 = time.monotonic()
            page.locator(RANDOM).first.click()
            page.wait_for_function(
                "(old) => { const g = document.querySelector('.st-key-lab-figure "
                ".js-plotly-plot'); return g && g.layout.meta.token !== old; }", arg=old)
            change = time.monotonic() - t1
            t2 = time.monotonic()
            page.goto(url + "/sliding-window")
            page.wait_for_selector(".js-plotly-plot .main-svg")
            window = time.monotonic() - t2
            page.close()
            text = log.read_text()
        finally:
            stop(proc)
    ready = re.search(r"conv\.warm: .*ready after ([\d.]+) s", text)
    return {"healthy": healthy, "first": first, "change": change, "window": window,
            "ready": float(ready.group(1)) if ready else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each way (alternated)")
    args = ap.parse_args(argv)
    exe = chromium_path()
    if exe is None:
        print("no Chromium found (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    results: dict[bool, list[dict]] = {False: [], True: []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            for r in range(args.rounds):
                for warm in ((False, True) if r % 2 == 0 else (True, False)):
                    res = one_round(browser, warm)
                    results[warm].append(res)
                    print(f"  round {r + 1}, {'background warm-up' if warm else 'first use'}: "
                          + ", ".join(f"{k} {v:.1f} s" for k, v in res.items() if v is not None),
                          flush=True)
        finally:
            browser.close()

    def med(rows, key):
        vals = [r[key] for r in rows if r[key] is not None]
        return statistics.median(vals) if vals else float("nan")

    print(f"\nFresh clone (no numba cache, no bytecode of ours), median of {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f}:")
    print(f"{'':28}{'healthy':>9}{'1st page':>10}{'target':>8}{'change':>8}{'window':>8}"
          f"{'compiled':>10}")
    for warm, label in ((False, "compile on first use"), (True, "background warm-up")):
        rows = results[warm]
        print(f"{label:28}{med(rows, 'healthy'):8.1f}s{med(rows, 'first'):9.1f}s"
              f"{TARGET_S:7.0f}s{med(rows, 'change'):7.2f}s{med(rows, 'window'):7.1f}s"
              + (f"{med(rows, 'ready'):9.1f}s" if warm else f"{'-':>10}"))
    print("1st page: from healthy to the filter lab's figure drawn (target 5 s); change: a "
          "kernel change right after; window: the sliding window's first figure; compiled: "
          "when the server switched to the compiled loops (after its first page started).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
