"""Filter lab: the server's memory with students uploading 12 MP photos, then leaving.

Run: ``python bench/bench_lab_memory.py [--students 5] [--ttl 30] [--ab CHECKOUT]``.

What it does: starts ``streamlit run app.py`` under ``bench/probe_server.py`` with a short
disconnect grace period (``server.disconnectedSessionTTL``, ``--ttl`` seconds; 120 by default
in Streamlit), opens the page, then N students at once (threads, each its own websocket, as
tabs) each upload a different 12 MP JPEG, look at it at full resolution with two layers, and at
1024 px with two more; then they close their tabs. It prints the server's resident memory
(RSS) idle before, its peak (the kernel's high-water mark), at the end of the work, and after
the grace period has passed (plus two sweeps), with what the uploaded-file manager and the
lab's upload store still hold and the byte budget's counters.

The target (DESIGN.md, "Serving a class"): peak memory of a replica <= its byte budget
(``CONVVIZ_CACHE_MB``, 1024 MB by default) + the interpreter's own; nothing of a closed tab
left after the grace period.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_lab_server import Server, Tab

MB = 2 ** 20


def photo(seed: int, width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG, different for every seed (colour waves, shapes, noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    ph = rng.uniform(0, 6)
    rgb = np.stack([128 + 90 * np.sin(xx / 310 + ph), 128 + 90 * np.cos(yy / 270 + ph),
                    128 + 60 * np.sin((xx + yy) / 420)], axis=-1)
    cx, cy = rng.integers(500, 3500), rng.integers(500, 2500)
    rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < 400 ** 2] = (240, 230, 40)
    rgb += rng.normal(0, 10, rgb.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def status(server: Server) -> dict:
    """RSS and peak RSS (MB) of the server process, from /proc."""
    out = {}
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def student(server: Server, data: bytes, seed: int, tabs: list, errors: list) -> None:
    try:
        tab = Tab(server)
        tabs.append(tab)
        tab.rerun({})
        up = {"img": "upload"}
        tab.upload(data, f"IMG_{seed}.jpg", up)
        for q in ({**up, "res": "full"}, {**up, "res": "full", "b": "3"},
                  {**up, "res": "full", "k": "laplacian_4"}, {**up}, {**up, "b": "7"}):
            tab.rerun(q)
    except Exception as exc:  # noqa: BLE001 - reported at the end
        errors.append(repr(exc))


def run(path: Path, students: int, ttl: int, photos: list[bytes], env: dict | None = None) -> dict:
    server = Server("app.py", path, env=env, extra=["--server.disconnectedSessionTTL", str(ttl)])
    report = {}
    try:
        first = Tab(server)
        first.rerun({})
        first.close()
        time.sleep(1)
        report["idle before"] = status(server)["VmRSS"]
        tabs: list[Tab] = []
        errors: list[str] = []
        threads = [threading.Thread(target=student, args=(server, photos[i], i, tabs, errors))
                   for i in range(students)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report["work (s)"] = round(time.monotonic() - t0, 1)
        st = status(server)
        report["after the work"] = st["VmRSS"]
        report["peak"] = st["VmHWM"]
        report["uploads held (MB), tabs open"] = int(server.ask("uploads")) / MB
        for tab in tabs:
            tab.close()
        # the grace period, then the sweep (every ttl/4 s, at most 30 s) twice
        time.sleep(ttl + 2 * max(1.0, min(30.0, ttl / 4)) + 2)
        st = status(server)
        report[f"{ttl} s after they left"] = st["VmRSS"]
        report["uploads held (MB), after"] = int(server.ask("uploads")) / MB
        report["lab upload store (MB), after"] = int(server.ask("lab_uploads")) / MB
        report["cache"] = json.loads(server.ask("cache") or "{}")
        report["errors"] = errors
    finally:
        server.stop()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=5)
    ap.add_argument("--ttl", type=int, default=30, help="server.disconnectedSessionTTL, s")
    ap.add_argument("--ab", default=None, help="another checkout, run after this one")
    ap.add_argument("--env", action="append", default=[],
                    help="NAME=VALUE for the server's environment (e.g. MALLOC_ARENA_MAX=2)")
    args = ap.parse_args()
    photos = [photo(i) for i in range(args.students)]
    print(f"{args.students} students, each a different 12 MP JPEG "
          f"({np.mean([len(p) for p in photos]) / MB:.1f} MB on average); grace period "
          f"{args.ttl} s", file=sys.stderr)
    checkouts = {"this checkout": ROOT}
    if args.ab:
        checkouts = {f"A {args.ab}": Path(args.ab), "B this checkout": ROOT}
    env = dict(e.split("=", 1) for e in args.env)
    results = {name: run(path, args.students, args.ttl, photos, env)
               for name, path in checkouts.items()}
    print("\nServer memory (RSS, MB) with students uploading 12 MP photos, then leaving")
    keys = [k for k in next(iter(results.values())) if k not in ("cache", "errors")]
    print(f"{'':<34}" + "".join(f"{n[:28]:>30}" for n in results))
    for k in keys:
        print(f"{k:<34}" + "".join(f"{r[k]:>30.1f}" for r in results.values()))
    for name, r in results.items():
        print(f"{name}: byte budget {r['cache']}; errors {r['errors'] or 'none'}")


if __name__ == "__main__":
    main()
