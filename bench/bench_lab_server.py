"""Filter lab: the server's CPU time per rerun, through Streamlit's own protocol.

Run: ``python bench/bench_lab_server.py [--rounds N] [--profile KIND] [--ab CHECKOUT]``.

What it does: starts ``streamlit run app.py`` under ``bench/probe_server.py`` (which answers the
process's CPU time: every thread, the websocket's and the serialisation's included), connects a
minimal client to its websocket (as a browser tab: a ``rerun_script`` message, then every
message back until the script has finished), and changes one setting of the page per rerun
through the URL's query string, as a student opening a link or the classroom benchmark's
simulated students do: the whole page script reruns with the URL applied. The CPU time of the
server process from the request to the end of the run is one measurement.

Kinds of change, each from a base configuration (not measured): a new bias (a layer never
computed before), a kernel preset, a layer setting (stride, padding, activation, pooling), the
stage shown, the display mapping, the map shown (a filter bank), the colour mode, the working
resolution and the image. A change is "new" when the server has not seen that configuration
before in this run, else "seen" (another student made it earlier, or this one came back).
Mapping changes are also made as a browser does them, inside the figures' fragment
("mapping (fragment)"). The first kinds are the target: kernel, layer and display settings at
1024 px, <= 40 ms of server CPU per change (DESIGN.md, "Serving a class"); colour,
resolution and image changes are reported separately (decoding and resizing a photo
legitimately costs more the first time).

The floor: the same measurement on a trivial Streamlit page (a title, a number input, a
caption), interleaved with the lab's changes; what Streamlit itself costs per rerun on this
machine at that moment.

``--profile KIND`` writes a cProfile of that kind's reruns (``bench/out/lab_server_KIND.pstats``)
and prints its top functions. ``--ab CHECKOUT`` runs the same changes on another checkout
(``/work/main``, say) at the same time, interleaved, and prints both with their ratio.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PROBE = ROOT / "bench" / "probe_server.py"
PORTS = range(8800, 8850)
TARGET_MS = 40.0
CACHE_AGE = 2  # runs a cached message stays in the browser unused (Streamlit's frontend)

FLOOR_APP = """
import streamlit as st
st.title("Floor")
v = st.number_input("x", 0.0, 1e9, step=1.0, key="x")
st.caption(f"query {dict(st.query_params)}, value {v}")
"""

# ---- the changes --------------------------------------------------------------------------

KERNELS = ["sobel_y", "laplacian_4", "gaussian_3x3", "sharpen", "scharr_x", "box", "emboss",
           "sobel_x"]
LAYERS = [{"s": "2"}, {"pad": "valid"}, {"act": "relu"}, {"pool": "max"},
          {"pad": "full", "pm": "reflect"}, {"act": "relu", "pool": "avg"}, {}]
SHOWN = ["conv", "biased", "activated", "output"]
MAPPINGS = ["signed", "abs", "clip", "stretch", "auto"]
MAPS = ["1", "2", "mag", "0"]
COLOURS = ["channels", "rgb", "gray"]
RESOLUTIONS = ["512", "256", "1024"]
IMAGES = ["photo:astronaut", "photo:coffee", "photo:rocket", "synthetic:disc", "photo:chelsea"]


def kinds(rounds: int) -> dict[str, tuple[dict, list[dict]]]:
    """kind -> (base query, the queries of its changes)."""
    def cyc(values, n):
        return list(itertools.islice(itertools.cycle(values), n))
    n = rounds
    return {
        "bias (new layer)": ({}, [{"b": str(i)} for i in range(1, n + 1)]),
        "kernel": ({}, [{"k": k} for k in cyc(KERNELS, n)]),
        "layer setting": ({}, cyc(LAYERS, n)),
        "stage shown": ({"b": "5", "act": "relu", "pool": "max"},
                        [{"b": "5", "act": "relu", "pool": "max", "show": s}
                         for s in cyc(SHOWN, n)]),
        "mapping": ({}, [{"mapping": m} for m in cyc(MAPPINGS, n)]),
        "map shown": ({"bank": "sobel_y,laplacian_4"},
                      [{"bank": "sobel_y,laplacian_4", "map": m} for m in cyc(MAPS, n)]),
        "colour mode": ({}, [{"colour": c} for c in cyc(COLOURS, n)]),
        "resolution": ({}, [{"res": r} for r in cyc(RESOLUTIONS, n)]),
        "image": ({}, [{"img": i} for i in cyc(IMAGES, n)]),
    }


def photo_kinds(rounds: int) -> dict[str, tuple[dict, list[dict]]]:
    """The same kinds of change on an uploaded 12 MP photo at 1024 px (1024 x 768)."""
    up = {"img": "upload"}
    n = rounds
    return {
        "12 MP: bias (new)": (up, [{**up, "b": str(i)} for i in range(1, n + 1)]),
        "12 MP: kernel": (up, [{**up, "k": k}
                               for k in itertools.islice(itertools.cycle(KERNELS), n)]),
        "12 MP: mapping": (up, [{**up, "mapping": m}
                                for m in itertools.islice(itertools.cycle(MAPPINGS), n)]),
        "12 MP: stage shown": ({**up, "b": "5", "act": "relu", "pool": "max"},
                               [{**up, "b": "5", "act": "relu", "pool": "max", "show": s}
                                for s in itertools.islice(itertools.cycle(SHOWN), n)]),
        "12 MP: full resolution": (up, [{**up, "res": "full", "b": str(i)}
                                        for i in range(1, min(n, 4) + 1)]),
    }


def make_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG with colour waves, a few sharp shapes and sensor-like noise (as
    bench/bench_lab_browser.py's)."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(12)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([128 + 90 * np.sin(xx / 310), 128 + 90 * np.cos(yy / 270),
                    128 + 60 * np.sin((xx + yy) / 420)], axis=-1)
    rgb[(xx - 2600) ** 2 + (yy - 1400) ** 2 < 500 ** 2] = (240, 230, 40)
    rgb[400:900, 500:1800] = (20, 40, 160)
    rgb += rng.normal(0, 10, rgb.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


TARGET_KINDS = ("bias (new layer)", "kernel", "layer setting", "stage shown", "mapping",
                "map shown", "mapping (fragment)", "12 MP: bias (new)", "12 MP: kernel",
                "12 MP: mapping", "12 MP: stage shown")

# ---- servers ------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_used: set[int] = set()


def free_port() -> int:
    for p in PORTS:
        if p not in _used and _port_free(p):
            _used.add(p)
            return p
    raise RuntimeError("no free port in 8800-8849")


class Server:
    """``streamlit run script`` under the probe, in ``cwd``."""

    def __init__(self, script: str, cwd: Path, env: dict | None = None,
                 extra: list[str] | tuple[str, ...] = ()):
        self.port, self.probe_port = free_port(), free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(PROBE), str(self.probe_port), script,
             "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--server.runOnSave", "false",
             "--runner.postScriptGC", "false", "--runner.magicEnabled", "false",
             # the harness uploads with a plain HTTP PUT, without the browser's XSRF cookie
             "--server.enableXsrfProtection", "false", *extra],
            cwd=cwd, env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{script} in {cwd}: streamlit exited ({self.proc.returncode})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health",
                                            timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("streamlit did not become healthy")
        self._probe = socket.create_connection(("127.0.0.1", self.probe_port))
        self._probe_file = self._probe.makefile("rwb")

    def ask(self, cmd: str) -> str:
        self._probe_file.write((cmd + "\n").encode())
        self._probe_file.flush()
        return self._probe_file.readline().decode().strip()

    def cpu(self) -> float:
        return float(self.ask("cpu"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Tab:
    """A browser tab's side of the protocol: rerun requests, and every message back."""

    def __init__(self, server: Server):
        from websockets.sync.client import connect

        self.server = server
        self._conn = connect(f"ws://127.0.0.1:{server.port}/_stcore/stream",
                             subprotocols=["streamlit"], max_size=None, open_timeout=60)
        self.ws = self._conn.__enter__()
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, str]] = {}  # key suffix -> (widget id, fragment id)
        self.received = 0
        # as the browser's message cache: hashes of the large elements received, reported with
        # each rerun so that the server sends a reference instead of an element the browser
        # has (Streamlit's frontend drops an entry unused for a few runs)
        self.cached: dict[str, int] = {}
        self.runs = 0
        self.session_id = ""
        self.states: dict[str, object] = {}  # widget id -> WidgetState sent with every rerun

    def rerun(self, query: dict | None = None, *, widget=None, fragment_id: str = "") -> float:
        """Rerun (the page with ``query``, or a fragment with one widget's new value); returns
        the server's CPU milliseconds from the request to the run's end. The widget states set
        with :meth:`set_state` are sent with every rerun, as a browser sends them."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        cs = msg.rerun_script
        if query is not None:
            self.query = urllib.parse.urlencode(query, safe=":,")
        cs.query_string = getattr(self, "query", "")
        cs.page_script_hash = self.page_hash
        self.runs += 1
        self.cached = {h: n for h, n in self.cached.items() if self.runs - n <= CACHE_AGE}
        cs.cached_message_hashes.extend(self.cached)
        for state in self.states.values():
            cs.widget_states.widgets.add().CopyFrom(state)
        if widget is not None:
            wid, value = widget
            w = cs.widget_states.widgets.add()
            w.id = wid
            w.string_array_value.data.extend([value])
            cs.fragment_id = fragment_id
        before = self.server.cpu()
        self.ws.send(msg.SerializeToString())
        finished = ForwardMsg.ScriptFinishedStatus
        while True:
            data = self.ws.recv(timeout=300)
            self.received += len(data)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if fm.metadata.cacheable and fm.hash:
                self.cached[fm.hash] = self.runs
            elif kind == "ref_hash":
                self.cached[fm.ref_hash] = self.runs
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "page_info_changed":
                pass
            elif kind == "delta":
                self._note_widget(fm)
            elif kind == "script_finished" and fm.script_finished in (
                    finished.Value("FINISHED_SUCCESSFULLY"),
                    finished.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY"),
                    finished.Value("FINISHED_WITH_COMPILE_ERROR")):
                break
        # the run's last messages are handed to the socket by the event loop just after the
        # script thread ends; a moment for that to happen (idle time adds no CPU time)
        time.sleep(0.03)
        return (self.server.cpu() - before) * 1000

    def _note_widget(self, fm) -> None:
        d = fm.delta
        if d.WhichOneof("type") != "new_element":
            return
        el = d.new_element
        which = el.WhichOneof("type")
        if which in ("button_group", "file_uploader"):
            wid = getattr(el, which).id
            self.widgets[wid.rsplit("-", 1)[-1]] = (wid, d.fragment_id)

    def set_state(self, key: str, fill) -> None:
        """Keep a widget state for the widget with this key; ``fill(state)`` sets its value."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState()
        state.id = self.widgets[key][0]
        fill(state)
        self.states[key] = state

    def upload(self, data: bytes, name: str, query: dict) -> float:
        """Upload a photo through the filter lab's uploader, as a browser does (the sidebar's
        source set to "Upload", the file sent by HTTP, then a rerun naming it); returns the
        CPU milliseconds of the rerun that reads it."""
        import uuid

        self.set_state("lab.src", lambda w: w.string_array_value.data.extend(["Upload"]))
        self.rerun(query)
        file_id = str(uuid.uuid4())
        url = f"/_stcore/upload_file/{self.session_id}/{file_id}"
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"uploadedFile\"; "
                f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + data + (
                f"\r\n--{boundary}--\r\n").encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.server.port}{url}", data=body,
                                     method="PUT", headers={
                                         "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=120):
            pass

        def fill(w):
            info = w.file_uploader_state_value.uploaded_file_info.add()
            info.file_id, info.name, info.size = file_id, name, len(data)
            info.file_urls.file_id = file_id
            info.file_urls.upload_url = info.file_urls.delete_url = url
        self.set_state("lab.file", fill)
        return self.rerun(query)

    def close(self) -> None:
        self._conn.__exit__(None, None, None)


# ---- the run ------------------------------------------------------------------------------


def _changes(tabs, floor, kinds_, profile, out, floor_ms, seen) -> None:
    for kind, (base, changes) in kinds_.items():
        for name, tab in tabs.items():
            tab.rerun(base)
            seen[name].add(json.dumps(base, sort_keys=True))
            out[name][kind] = []
        for q in changes:
            for name, tab in tabs.items():
                if profile == kind:
                    tab.server.ask("profile on")
                key = json.dumps(q, sort_keys=True)
                ms = tab.rerun(q)
                if profile == kind:
                    tab.server.ask("profile off")
                out[name][kind].append((ms, key not in seen[name]))
                seen[name].add(key)
            floor_ms.append(floor.rerun({"x": str(len(floor_ms))}))
        print(f"  {kind}: done", file=sys.stderr)


def measure(tabs: dict[str, Tab], floor: Tab, rounds: int, profile: str | None,
            photo: bytes | None):
    """{checkout: {kind: [(ms, new), ...]}}, and the floor's [ms, ...]."""
    out = {name: {} for name in tabs}
    floor_ms = []
    seen: dict[str, set] = {name: set() for name in tabs}
    _changes(tabs, floor, kinds(rounds), profile, out, floor_ms, seen)
    # mapping changed in the browser's way: the pills' new value, the figures' fragment rerun
    kind = "mapping (fragment)"
    for name, tab in tabs.items():
        tab.rerun({})
        out[name][kind] = []
    from viz import maps
    titles = [maps.MAPPING_TITLES[m] for m in itertools.islice(itertools.cycle(MAPPINGS), rounds)]
    for title in titles:
        for name, tab in tabs.items():
            if "lab.mapping" not in tab.widgets:
                continue
            wid, frag = tab.widgets["lab.mapping"]
            if profile == kind:
                tab.server.ask("profile on")
            ms = tab.rerun(widget=(wid, title), fragment_id=frag)
            if profile == kind:
                tab.server.ask("profile off")
            out[name][kind].append((ms, False))
        floor_ms.append(floor.rerun({"x": str(len(floor_ms))}))
    if photo is None:
        return out, floor_ms
    # a 12 MP photo uploaded: the run that decodes it (once per server), then changes at 1024
    kind = "12 MP: upload (decode)"
    for name, tab in tabs.items():
        out[name][kind] = [(tab.upload(photo, "IMG_4000x3000.jpg", {"img": "upload"}), True)]
    _changes(tabs, floor, photo_kinds(rounds), profile, out, floor_ms, seen)
    return out, floor_ms


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def med(values):
    return statistics.median(values) if values else float("nan")


def report(out, floor_ms, names):
    floor = med(floor_ms)
    print(f"\nServer CPU per rerun, milliseconds (median; p95 over all its changes). "
          f"Target: {TARGET_MS:.0f} ms for kernel, layer and display changes at 1024 px. "
          f"Floor (a trivial page, same moments): median {floor:.1f}, p95 "
          f"{pct(floor_ms, 0.95):.1f}.")
    head = f"{'change':<22}" + "".join(
        f"| {n[:24]:<24} new   seen    p95  " for n in names)
    if len(names) == 2:
        head += "| ratio (median, all)"
    print(head)
    for kind in out[names[0]]:
        row = f"{kind + (' *' if kind in TARGET_KINDS else ''):<22}"
        meds = []
        for n in names:
            vals = out[n][kind]
            new = [ms for ms, is_new in vals if is_new]
            old = [ms for ms, is_new in vals if not is_new]
            all_ = [ms for ms, _ in vals]
            meds.append(med(all_))
            row += (f"| {'':<24}{med(new):5.0f} {med(old):6.0f} {pct(all_, 0.95):6.0f}  ")
        if len(names) == 2:
            row += f"| {meds[1] / meds[0]:.2f}x" if meds[0] else "|"
        print(row)
    print("* the 40 ms target; 'new': a configuration the server had not seen (computed), "
          "'seen': one it had (cached).")
    for n in names:
        target = [ms for k in TARGET_KINDS for ms, _ in out[n].get(k, [])]
        print(f"{n}: target kinds, all changes: median {med(target):.1f} ms, p95 "
              f"{pct(target, 0.95):.1f} ms ({med(target) / TARGET_MS:.2f} of the target; "
              f"{med(target) / floor:.1f}x the floor)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=12, help="changes per kind")
    ap.add_argument("--profile", default=None, help="a kind to profile (cProfile)")
    ap.add_argument("--ab", default=None, help="another checkout to run side by side")
    ap.add_argument("--no-photo", action="store_true",
                    help="skip the uploaded 12 MP photo's changes")
    args = ap.parse_args()

    checkouts = {"this checkout": ROOT}
    if args.ab:
        checkouts = {f"A {args.ab}": Path(args.ab), "B this checkout": ROOT}
    servers, tabs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = Path(tmp) / "floor.py"
        floor_path.write_text(FLOOR_APP)
        floor_server = Server(str(floor_path), Path(tmp))
        try:
            for name, path in checkouts.items():
                servers[name] = Server("app.py", path)
            for name, server in servers.items():
                tabs[name] = Tab(server)
                t0 = time.perf_counter()
                ms = tabs[name].rerun({})
                print(f"{name}: first run of the page {ms:.0f} ms CPU "
                      f"({time.perf_counter() - t0:.1f} s wall; numba compiles on first use)",
                      file=sys.stderr)
            floor = Tab(floor_server)
            floor.rerun({})
            for _ in range(3):  # warm both: the first reruns compile and fill caches
                for tab in tabs.values():
                    tab.rerun({"b": "0.5"})
                    tab.rerun({})
                floor.rerun({"x": "w"})
            photo = None if args.no_photo else make_photo()
            out, floor_ms = measure(tabs, floor, args.rounds, args.profile, photo)
            report(out, floor_ms, list(tabs))
            for name, server in servers.items():
                rss = int(server.ask("rss")) / 2**20
                print(f"{name}: RSS at the end {rss:.0f} MB; cache {server.ask('cache')}")
                if args.profile:
                    (ROOT / "bench" / "out").mkdir(exist_ok=True)
                    path = ROOT / "bench" / "out" / (f"lab_server_{args.profile.split()[0]}"
                                                     f"{'_' + name[0] if args.ab else ''}.pstats")
                    n = server.ask(f"profile dump {path}")
                    if n != "0":
                        print(f"\n{name}: profile of {n} reruns ({args.profile}) in {path}")
                        pstats.Stats(str(path)).sort_stats("cumulative").print_stats(35)
        finally:
            for tab in tabs.values():
                tab.close()
            for server in servers.values():
                server.stop()
            floor_server.stop()


if __name__ == "__main__":
    main()
