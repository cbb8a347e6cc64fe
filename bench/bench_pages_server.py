"""Server CPU per rerun of the sliding window, "Learn a kernel", CNN arithmetic and
"Convolution family" pages.

Run: ``python bench/bench_pages_server.py [--rounds N] [--pages sliding-window,learn-kernel,
arithmetic]``.

What it does: starts ``streamlit run app.py`` and, beside it, a trivial Streamlit app (the
"floor": a title and one line of text) on ports 8850-8899, and talks to both through
Streamlit's own websocket protocol, as a browser does: a ``rerun_script`` message carrying the
page, a query string (the page's URL parameters, ``UrlState``) or changed widget values, and
the hashes of the large messages it already holds (so the server sends a reference instead, as
it does to a browser). A change is timed from the request to the ``script_finished`` message
plus a short settle, as the server process's CPU time (all its threads: the script, the
protobuf serialisation, the websocket), read with ``clock_gettime`` on the process's CPU
clock; so other programs on a shared machine do not count, only their effect on the caches.
Each page change is followed by a floor rerun, measured the same way.

Kinds of change (each a list of settings visited in turn; ``warm``: the settings were seen
before, by this or another session, so every cache holds them; ``cold``: a configuration
never seen), and, per page, new sessions opening it (a class opening the teacher's link):

- sliding-window: an example (one click), a kernel preset, a layer setting, the step (as a
  click on an output cell sets it), a random grid with a new seed (cold), a patch of a sample
  photo moved across it, a rerun that changes nothing (a popover opened, say);
- learn-kernel (after one training run): the number of steps (the result stays),
  the target kernel, the training resolution, nothing; and the training run itself, the
  first one and the default run again (as a class does: everyone trains the default);
- arithmetic: a preset (by its link, and by its pill: a click), an input of the cost
  comparisons (a fragment rerun), nothing;
- family: a mode, a transposed convolution's setting, a 1-D setting, the step (as a click
  sets it), new random numbers (cold), nothing.

Targets (the issue): every page at most 300 ms per rerun for one student; the class target
(30 students, a change every 2-4 s, two replicas on 2 cores, p95 < 1 s) needs the average
rerun well under 100 ms of server CPU: tens of milliseconds for the typical change.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGET_MS = 300.0  # one student, any change
CLASS_MS = 100.0  # the class's average rerun must stay well under this
PORTS = range(8850, 8900)
SETTLE_S = 0.03  # after script_finished: the server's last sends and cleanup are counted

FLOOR_APP = """
import streamlit as st
st.title("Floor")
st.write("A trivial page:", dict(st.query_params))
"""


# --------------------------------------------------------------------------------------------
# A server and its CPU clock
# --------------------------------------------------------------------------------------------

def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8850-8899")


class Server:
    """``streamlit run script`` in ``cwd`` on a port of 8850-8899; :meth:`cpu` is its CPU time."""

    def __init__(self, script: str, cwd: Path, timeout: float = 120.0):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=cwd, env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the process's CPU clock (Linux: CPUCLOCK_SCHED of the whole thread group): all its
        # threads, in nanoseconds, readable from outside the process
        self.clock = ((~self.proc.pid) << 3) | 2
        url = f"http://127.0.0.1:{self.port}/_stcore/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("streamlit did not become healthy in time")

    def cpu(self) -> float:
        return time.clock_gettime(self.clock)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------------------------
# A minimal browser: Streamlit's websocket protocol
# --------------------------------------------------------------------------------------------

@dataclass
class Change:
    """One rerun request: a query string, and/or widget values by their keys.

    ``widgets``: key -> ``("option", i)`` (the i-th option of a selectbox, select slider or
    button group; or the first whose label contains the text ``i``), ``("double", v)``,
    ``("trigger", True)`` (a button click).
    """

    query: str | None = None
    widgets: dict = field(default_factory=dict)


@dataclass
class Rerun:
    cpu_ms: float
    wall_ms: float
    received: int  # bytes of ForwardMsgs received
    status: int


class Client:
    """One browser session: sends ``rerun_script`` and reads ForwardMsgs to the run's end."""

    def __init__(self, server: Server, page: str = ""):
        from websockets.sync.client import connect

        self.server = server
        self.page = page
        self.ws = connect(f"ws://127.0.0.1:{server.port}/_stcore/stream",
                          subprotocols=["streamlit"], max_size=None, open_timeout=30)
        self.ws.__enter__()  # websockets wants its connection entered (closed by close())
        self.query = ""
        self.page_hash = ""
        self.cached: set[str] = set()
        self.elements: dict[str, object] = {}  # user key -> widget proto
        self.fragments: dict[str, str] = {}  # user key -> fragment id
        self.widget_states: dict[str, object] = {}  # widget id -> WidgetState (sent each time)

    def close(self) -> None:
        self.ws.close()

    def _widget_state(self, key: str, how: tuple):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        proto = self.elements[key]
        ws = WidgetState(id=proto.id)
        kind, value = how
        if kind == "trigger":
            ws.trigger_value = True
        elif kind == "double":
            ws.double_value = float(value)
        elif kind == "option":
            options = [o.content if hasattr(o, "content") else o for o in proto.options]
            text = (options[value] if isinstance(value, int)
                    else next(o for o in options if value in o))
            if type(proto).__name__ == "Selectbox":
                ws.string_value = text
            else:
                ws.string_array_value.data.append(text)
        else:
            raise ValueError(kind)
        return ws

    def rerun(self, change: Change | None = None) -> Rerun:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        change = change or Change()
        msg = BackMsg()
        cs = msg.rerun_script
        if change.query is not None:
            self.query = change.query
        cs.query_string = self.query
        cs.page_name = self.page
        cs.page_script_hash = self.page_hash
        states = dict(self.widget_states)
        triggers = []
        fragment = None
        for key, how in change.widgets.items():
            ws = self._widget_state(key, how)
            states[ws.id] = ws
            if how[0] == "trigger":
                triggers.append(ws.id)
            fragment = fragment or self.fragments.get(key)
        if change.widgets and all(self.fragments.get(k) == fragment for k in change.widgets):
            cs.fragment_id = fragment or ""
        cs.widget_states.widgets.extend(states.values())
        cs.cached_message_hashes.extend(sorted(self.cached))
        for ws_id, ws in states.items():  # a click is a trigger for one run only
            if ws_id not in triggers:
                self.widget_states[ws_id] = ws
        c0, t0 = self.server.cpu(), time.perf_counter()
        self.ws.send(msg.SerializeToString())
        received = 0
        while True:
            data = self.ws.recv(timeout=600)
            received += len(data)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if fm.metadata.cacheable and fm.hash:
                self.cached.add(fm.hash)
            if kind == "delta":
                self._read_delta(fm)
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "navigation":
                for p in fm.navigation.app_pages:
                    if p.url_pathname == self.page:
                        self.page_hash = p.page_script_hash
            elif kind == "script_finished":
                status = fm.script_finished
                if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    break
        wall = time.perf_counter() - t0
        time.sleep(SETTLE_S)
        return Rerun((self.server.cpu() - c0) * 1e3, wall * 1e3, received, status)

    def _read_delta(self, fm) -> None:
        delta = fm.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        which = el.WhichOneof("type")
        if which is None:
            return
        proto = getattr(el, which)
        wid = getattr(proto, "id", "") if hasattr(proto, "DESCRIPTOR") and \
            "id" in proto.DESCRIPTOR.fields_by_name else ""
        if not wid or not wid.startswith("$$ID"):
            return
        key = wid.split("-", 2)[2] if wid.count("-") >= 2 else ""
        if key and key != "None":
            self.elements[key] = proto
            self.fragments[key] = delta.fragment_id


# --------------------------------------------------------------------------------------------
# What a student does, page by page
# --------------------------------------------------------------------------------------------

def _cycle(queries: list[str]) -> list[Change]:
    return [Change(query=q) for q in queries]


def sliding_window(rounds: int) -> tuple[list[Change], dict[str, list[Change]]]:
    examples = ["ex=blur_5x5", "ex=pool_4x4", "ex=pad1_stride2", "ex=volume_6x6x3",
                "ex=edge_6x6"]
    kernels = ["k=sobel_x", "k=laplacian_4", "k=sharpen", "k=gaussian_3x3", "k=vertical_edge"]
    layers = ["s=2", "pad=same", "act=relu", "pool=max", "pad=same&s=2", ""]
    steps = [f"step={k}" for k in range(2, 17)]
    fresh = [f"ex=random&rows=12&cols=12&seed={1000 + k}" for k in range(rounds)]
    patches = [f"ex=photo&photo=chelsea&cells=8&x={x}&y=50" for x in (30, 40, 50, 60, 70)]
    setup = _cycle(examples + kernels + layers + steps[:rounds] + patches)
    kinds = {
        "example (warm)": _cycle(examples),
        "kernel preset (warm)": _cycle(kernels),
        "layer setting (warm)": _cycle(layers),
        "step: a clicked cell": _cycle(steps),
        "random grid 12x12 (cold)": _cycle(fresh),
        "photo patch: move it (warm)": _cycle(patches),
        "nothing changed": [Change()],
    }
    return setup, kinds


def learn_kernel(rounds: int) -> tuple[list[Change], dict[str, list[Change]]]:
    setup = [Change(widgets={"learn_train": ("trigger", True)})]
    kinds = {
        "steps setting (run kept)": [Change(widgets={"learn.steps": ("option", i)})
                                  for i in (3, 4, 5, 6)],
        "target kernel (warm)": [Change(widgets={"learn.target.preset": ("option", i)})
                                 for i in (1, 2, 3, 0)],
        "resolution (warm)": [Change(widgets={"learn.resolution": ("option", i)})
                              for i in (2, 3)],
        "nothing changed": [Change()],
        # everyone presses Train on the same default run; the 1st of these is after a change
        "train: the default run again": [
            Change(widgets={"learn.target.preset": ("option", "Sobel x"),
                            "learn.resolution": ("option", "256"),
                            "learn.steps": ("option", "300"), "learn_train": ("trigger", True)})],
    }
    return setup, kinds


def arithmetic(rounds: int) -> tuple[list[Change], dict[str, list[Change]]]:
    presets = ["preset=alexnet", "preset=vgg16", "preset=ex_280", "preset=lenet5"]
    kinds = {
        "preset (warm)": _cycle(presets),
        "preset pill: a click (warm)": [Change(widgets={"arith_pick": ("option", name)})
                                        for name in ("AlexNet", "VGG-16", "LeNet-5")],
        "cost input (fragment)": [Change(widgets={"arith_fc_h": ("double", v)})
                                  for v in (28, 32, 64, 100)],
        "nothing changed": [Change()],
    }
    return _cycle(presets), kinds


def family(rounds: int) -> tuple[list[Change], dict[str, list[Change]]]:
    modes = ["mode=1d", "mode=groups", "mode=im2col", "mode=backprop", "mode=transposed"]
    settings = ["mode=transposed&s=1", "mode=transposed&op=1", "mode=transposed&p=0",
                "mode=transposed&view=stamps", "mode=transposed"]
    one_d = ["mode=1d&pad=same", "mode=1d&pad=full&d=2", "mode=1d&sig=sine", "mode=1d"]
    steps = [f"mode=transposed&step={k}&step2={k + 3}" for k in range(2, 10)]
    fresh = [f"mode=transposed&n=4&seed={1000 + k}" for k in range(rounds)]
    setup = _cycle(modes + settings + one_d + steps[:rounds])
    kinds = {
        "mode (warm)": _cycle(modes),
        "transposed setting (warm)": _cycle(settings),
        "1-D setting (warm)": _cycle(one_d),
        "step: a clicked cell": _cycle(steps),
        "transposed, new numbers (cold)": _cycle(fresh),
        "nothing changed": [Change()],
    }
    return setup, kinds


PAGES = {"sliding-window": sliding_window, "learn-kernel": learn_kernel,
         "arithmetic": arithmetic, "family": family}


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

def _p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def measure(apps: list[Server], floor: Server, pages: list[str], rounds: int) -> list[dict]:
    """Per app, ``{(page, kind): [Rerun, ...]}``; the apps take turns on every change (the
    order alternating), and the floor reruns once after each turn."""
    results: list[dict] = [{} for _ in apps]
    floor_client = Client(floor)
    floor_client.rerun(Change(query="n=0"))
    n_floor = 0

    def floor_rerun():
        nonlocal n_floor
        n_floor += 1
        r = floor_client.rerun(Change(query=f"n={n_floor}"))
        for res in results:
            res.setdefault(("floor", "a trivial page"), []).append(r)

    def turn(clients, change, page, kind, k):
        order = range(len(apps)) if k % 2 == 0 else reversed(range(len(apps)))
        for i in order:
            r = clients[i].rerun(change)
            if kind is not None:
                results[i].setdefault((page, kind), []).append(r)

    for page in pages:
        setup, kinds = PAGES[page](rounds)
        clients = [Client(app, page) for app in apps]
        turn(clients, Change(), page, "first visit", 0)
        floor_rerun()
        for k, change in enumerate(setup):  # the class has seen these settings before
            turn(clients, change, page,
                 "train (default run)" if change.widgets.get("learn_train") else None, k)
        for kind, changes in kinds.items():
            for k in range(rounds):
                turn(clients, changes[k % len(changes)], page, kind, k)
                floor_rerun()
        for c in clients:
            c.close()
        for k in range(rounds):  # students opening the teacher's link (the page's default)
            fresh = [Client(app, page) for app in apps]
            turn(fresh, Change(), page, "a new session (warm)", k)
            for c in fresh:
                c.close()
            floor_rerun()
    floor_client.close()
    return results


def report(results: list[dict], rounds: int, names: list[str]) -> str:
    head = (f"Server CPU per rerun, ms ({rounds} reruns per kind; floor: a trivial page in a "
            "server of its own, one rerun after each change)")
    lines = [head]
    if len(results) == 1:
        lines.append(f"{'page':<16}{'change':<28}{'median':>8}{'p95':>8}{'mean':>8}"
                     f"{'KB recv':>9}{'wall med':>10}  target")
    else:
        lines.append(f"{'page':<16}{'change':<28}" + "".join(
            f"{n[:12] + ' med':>17}{'p95':>8}" for n in names) + f"{'ratio':>8}  target")
    for (page, kind) in results[0]:
        row = f"{page:<16}{kind:<28}"
        target = "" if page == "floor" else (
            f"<= {TARGET_MS:.0f}" if kind in ("first visit", "train (default run)",
                                              "a new session (warm)")
            else f"<= {TARGET_MS:.0f}; class: mean << {CLASS_MS:.0f}")
        meds = []
        for res in results:
            rs = res[(page, kind)]
            cpu = [r.cpu_ms for r in rs]
            meds.append(statistics.median(cpu))
            if len(results) == 1:
                row += (f"{meds[-1]:8.1f}{_p95(cpu):8.1f}{statistics.fmean(cpu):8.1f}"
                        f"{statistics.median(r.received for r in rs) / 1e3:9.1f}"
                        f"{statistics.median(r.wall_ms for r in rs):10.1f}")
            else:
                row += f"{meds[-1]:17.1f}{_p95(cpu):8.1f}"
        if len(results) > 1:
            row += f"{meds[1] / meds[0]:8.2f}" if meds[0] > 0 and page != "floor" else " " * 8
        lines.append(row + f"  {target}")
    if len(results) > 1:
        lines.append(f"ratio: {names[1]} / {names[0]} (medians)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15, help="reruns per kind of change")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma-separated page paths")
    ap.add_argument("--cwd", default=str(ROOT), help="the checkout to serve")
    ap.add_argument("--ab", metavar="DIR", help="another checkout, served beside --cwd: both "
                    "take every change in turn, and the report gives the ratio DIR / --cwd")
    args = ap.parse_args(argv)
    pages = [p for p in args.pages.split(",") if p]
    dirs = [Path(args.cwd)] + ([Path(args.ab)] if args.ab else [])
    servers: list[Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        # the floor runs with the app's own settings (no magic, no collection after each run)
        conf = ROOT / ".streamlit" / "config.toml"
        (Path(tmp) / ".streamlit").mkdir()
        (Path(tmp) / ".streamlit" / "config.toml").write_text(conf.read_text())
        (Path(tmp) / "floor.py").write_text(FLOOR_APP)
        try:
            for d in dirs:
                servers.append(Server("app.py", d))
            floor = Server("floor.py", Path(tmp))
            servers.append(floor)
            results = measure(servers[:-1], floor, pages, args.rounds)
        finally:
            for s in servers:
                s.stop()
    print(report(results, args.rounds, [str(d) for d in dirs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
