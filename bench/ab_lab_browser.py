"""A/B: the filter lab's bias (or kernel) change, timed in Chromium, on two checkouts side by side.

Run: ``python bench/ab_lab_browser.py DIR_A DIR_B [--rounds N] [--args-a "..."] [--args-b "..."]``
(e.g. ``git worktree add /tmp/before HEAD~1`` and compare it with ``.``; the extra arguments go
to ``streamlit run``, e.g. ``--args-a "--runner.postScriptGC true"``).

Both apps get the same generated 12 MP photo through the real file input, at the default working
resolution (1024), and the same change as ``bench/bench_lab_browser.py`` (bias "+", a new layer
every time; with ``--change kernel``, the kernel's "Random" action, a new kernel every time),
timed from the click to the new figure drawn. The changes alternate between the two pages in ABBA
order: on this kind of machine the load changes by the minute and the second
measurement of a pair tends to be faster, so neither version gets the better slot. Differences
below about 20 ms need 30 rounds or more to show (medians of 30 moved by 20-40 ms between runs
of the same code an hour apart; the difference between the two versions in one run is steadier).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_lab_browser as lab_bench

from tests.e2e.harness import CHROMIUM_ARGS, chromium_path, start_streamlit, stop


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--args-a", default="")
    ap.add_argument("--args-b", default="")
    ap.add_argument("--change", choices=("bias", "kernel"), default="bias",
                    help='bias: its "+"; kernel: the kernel\'s "Random" action')
    args = ap.parse_args(argv)
    exe = chromium_path()
    if exe is None:
        print("no Chromium found (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    selector = lab_bench.PLUS if args.change == "bias" else lab_bench.RANDOM
    photo = lab_bench.make_photo(Path(tempfile.mkdtemp(prefix="lab-ab-")) / "photo.jpg")
    runs = [(Path(args.dir_a).resolve(), args.args_a.split()),
            (Path(args.dir_b).resolve(), args.args_b.split())]
    procs, ms = [], [[], []]
    started = time.perf_counter()
    try:
        pages = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
            for where, extra in runs:
                proc, url = start_streamlit("app.py", cwd=where, extra_args=extra)
                procs.append(proc)
                page, _ = lab_bench.open_lab(browser, url, photo)
                lab_bench.change(page, selector)  # warm-up
                pages.append(page)
            for r in range(args.rounds):
                for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                    pages[i].bring_to_front()
                    ms[i].append(lab_bench.change(pages[i], selector)["ms"])
            browser.close()
    finally:
        for proc in procs:
            stop(proc)
    print(f"{args.change} change at 1024, {args.rounds} rounds in ABBA order, "
          f"{time.perf_counter() - started:.0f} s")
    for (where, extra), values in zip(runs, ms):
        print(f"  {str(where) + (' ' + ' '.join(extra) if extra else ''):<60} median "
              f"{statistics.median(values):5.0f} ms   min {min(values):4.0f}   max "
              f"{max(values):4.0f}")
    diff = statistics.median(ms[1]) - statistics.median(ms[0])
    print(f"  B - A: {diff:+.0f} ms (median of B minus median of A)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
