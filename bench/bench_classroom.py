"""A class of simulated students on one server, through Streamlit's own websocket protocol.

Run::

    python bench/bench_classroom.py --quick                  # N = 1, 5 for 20 s each (minutes)
    python bench/bench_classroom.py                          # N = 1, 10, 30, 60 (about 30 min)
    python bench/bench_classroom.py --students 1,10,30 --duration 60 --idle-after 180
    python bench/bench_classroom.py --serve "python deploy/serve.py --replicas 2 --port {port}"

Options: ``--serve`` the command that serves the app (``{port}`` is replaced; started in the
repository's root, in a process group of its own, stopped by that group's id); ``--floor-serve``
the same for the floor app; ``--students``, ``--duration`` (s per phase), ``--idle-after`` (s to
wait after everyone left before reading the memory), ``--uploads`` (students uploading a 12 MP
photo), ``--tabs`` (upload-and-close tabs), ``--skip floor,uploads,tabs``, ``--budget-gb``
(memory budget per replica), ``--replicas`` (default: counted among the server's processes),
``--timeout`` (s without ``script_finished``), ``--seed``, ``--cold-numba`` (an empty numba
cache: the first visit compiles, as on a fresh deployment; by default the checkout's on-disk
cache is used). Results also go to
``bench/out/classroom-<time>.json``.

What a student is: an asyncio client that does what the browser does, without a browser: GETs
the page, ``/_stcore/health`` (which sets the XSRF cookie) and ``/_stcore/host-config``, keeping
every cookie (a load balancer's affinity cookie included); opens ``/_stcore/stream`` with the
frontend's subprotocols (``streamlit``, the XSRF token); sends ``BackMsg.rerun_script`` with the
query string, the page (its name on the first visit, then its hash from the ``navigation``
message), the widget states and the hashes of the cached messages; and reads ForwardMsgs until
the run's ``script_finished``. It keeps the frontend's message cache (messages marked cacheable
are kept and their hashes sent; the server then sends ``ref_hash`` references; entries expire
after ``maxCachedMessageAge`` runs, as in the frontend), so the server sends what it sends to a
browser. Uploads go through ``file_urls_request`` and a multipart PUT to
``/_stcore/upload_file/<session>/<file>`` with the XSRF header, then a rerun with the
uploader's ``file_uploader_state_value``, as the frontend does.

A class: each student opens a page (the filter lab most often, as in a lesson: 45 % filter lab,
25 % sliding window, 10 % each for the others), stays for 3-8 changes, then moves to another;
a change comes every 2-4 s after the previous one (a student never changes anything before the
previous result has arrived; if it came late, the next change follows at once). On the filter
lab, the sliding window and CNN arithmetic a change is a rerun with a new query string (one
setting changed, as a student changes one control; the pages' URL parameters, the values a
lesson uses); on "Learn a kernel" and "Inside a CNN", which keep nothing in the URL, it is a
widget: a digit, the next example, a target kernel, an optimiser, Train. Each student has its
own fixed seed. A rerun through a new query string reruns the whole page, where a click in the
browser often reruns one fragment: these reruns are heavier than most real clicks.

Before the phases, a warm-up: one student visits every page once (one per replica behind a
balancer); the first visit after the server became healthy is reported on its own.

Per rerun: the time from sending the request to the run's ``script_finished``, its status
(finished; finished after the script reran itself; with an error), and what went wrong:
exception elements, error alerts, compile errors, "page not found", time-outs, dropped
connections, failed uploads. Warning alerts are counted too (notices about a link apart: one
would mean the benchmark sent a value a page refuses). "Learn a kernel"'s Train runs for
seconds by design, behind a progress bar: it is reported on its own (with the time to its first
element) and left out of the latency percentiles.

Server: memory is the sum of PSS (RSS where PSS is unreadable) over the serve command's whole
process tree, sampled every 0.5 s; CPU is utime + stime of that tree, reported as the cores used
on average during a phase. The CPU of the benchmark itself and of every other process on this
(shared) machine is printed too. The floor is the same phase run against ``bench/floor_app.py``
(a title, a slider, a line of text), started alongside and measured while the app's server
sits idle after its phase, so the noise of the machine at that time is visible.

Targets (the issue, DESIGN.md "Serving a class"): 30 students p95 < 1 s with 0 errors
(required); 60 students p95 < 2 s (aim); server time per rerun, for one student: filter lab
<= 40 ms at 1024 px, every page <= 300 ms; a fresh server's first page within 5 s of being
healthy; memory: peak <= budget x replicas + idle, and within 10 % of idle 3 minutes after
everyone left; 20 tabs that upload a 12 MP photo and close: no growth beyond noise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import random
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from google.protobuf.message import DecodeError
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

DEFAULT_SERVE = ("streamlit run app.py --server.port {port} --server.headless true "
                 "--server.fileWatcherType none")
DEFAULT_FLOOR = ("streamlit run bench/floor_app.py --server.port {port} --server.headless true "
                 "--server.fileWatcherType none --server.enableStaticServing false")
PORTS = range(8600, 8650)  # the ports this benchmark may use

# Targets (DESIGN.md "Serving a class", the issue)
P95_TARGET = {30: 1.0, 60: 2.0}  # students -> seconds (30: required, 60: aim)
LAB_1024_CPU_TARGET = 0.040      # s of server CPU per filter-lab rerun at 1024 px, one student
PAGE_TARGET = 0.300              # s per rerun of every page, one student
FIRST_VISIT_TARGET = 5.0         # s from healthy to the first page
FULL_RES_TARGET = 1.5            # s for a change at full resolution of a 12 MP photo
IDLE_TOLERANCE = 0.10            # memory after everyone left: within 10 % of idle
# Runs that last seconds by design (training shows a progress bar): reported on their own,
# left out of the latency percentiles that the targets are about.
LONG_BY_DESIGN = ("learn a kernel: train",)

MB = 1024 * 1024


# ============================================================================================
# What students do on each page (pure functions of a random.Random: testable, reproducible)
# ============================================================================================

@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str        # url path ("" is the app's root, which switches to the filter lab)
    weight: float    # share of a lesson's time
    order: tuple[str, ...] = ()  # URL parameters in the page's declaration order


# The query names, in each page's declaration order (ui/lab_state.py url_state(),
# ui/window_view.py url_state(), ui/layer_controls.py layer_params): links are written in this
# order.
_LAYER = ("pad", "ph", "pw", "pm", "s", "d", "b", "act", "slope", "pool", "pk", "ps")
LAB_ORDER = ("img", "res", "colour", "k", "ks", "sigma", "kt", "bank", "kr", "kg", "kb",
             *_LAYER, "show", "map", "mapping", "lim")
SW_ORDER = ("ex", "rows", "cols", "vals", "seed", "photo", "x", "y", "region",
            "cells", "k", "ks", "sigma", "kt", "flip", *_LAYER, "step", "pstep")
FAMILY_ORDER = ("mode", "view", "n", "k", "s", "p", "op", "d", "seed", "x", "w", "sig", "kern",
                "pad", "c", "cin", "cout", "g", "hw", "gt", "bview", "photo", "step", "step2")
# every page's own parameters come first, then those every page shares (ui/state.SHARED)
SHARED_ORDER = ("classroom",)

PAGES = {
    "lab": Page("lab", "filter lab", "filter-lab", 0.45, LAB_ORDER),
    "window": Page("window", "sliding window", "sliding-window", 0.25, SW_ORDER),
    "learn": Page("learn", "learn a kernel", "learn-kernel", 0.10),
    "inside": Page("inside", "inside a CNN", "inside-cnn", 0.10),
    "arith": Page("arith", "CNN arithmetic", "arithmetic", 0.10, ("preset",)),
    "family": Page("family", "convolution family", "family", 0.08, FAMILY_ORDER),
}
TOUR = ("lab", "window", "family", "learn", "inside", "arith")  # the lesson's order (warm-up, N = 1)

# The link the teacher shares for each page: every student starts from it.
TEACHER = {
    "lab": {"k": "sobel_x", "bank": "sobel_y"},
    "window": {"ex": "blur_5x5"},
    "arith": {"preset": "lenet5"},
    "family": {"mode": "transposed"},
}


@dataclass
class Change:
    """One thing a student does: a rerun with ``query`` and widget ``actions``
    (``(user key, op, value)``: op "trigger" (a button), "pick" (an option, by its text), or
    "random" (any option of the widget)."""
    page: str
    label: str                  # what changed, for the tables (e.g. "lab: bias")
    query: str = ""
    actions: tuple = ()
    cfg: dict = field(default_factory=dict)


def query_of(page: str, cfg: dict) -> str:
    """The query string of ``cfg`` (URL name -> text), in the page's declaration order, as
    ``UrlState.link`` writes it."""
    order = (*PAGES[page].order, *SHARED_ORDER)
    return urlencode([(n, cfg[n]) for n in order if n in cfg], safe=":,;|/")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# ---- the filter lab --------------------------------------------------------------------------

# Kernels a lesson uses, with their sizes (kernels/library.py): fixed ones, and parametric ones
# with the sizes offered and the default size.
LAB_FIXED = {"sobel_x": 3, "sobel_y": 3, "scharr_x": 3, "scharr_y": 3, "prewitt_x": 3,
             "prewitt_y": 3, "laplacian_4": 3, "laplacian_8": 3, "sharpen": 3, "emboss": 3,
             "outline": 3, "gaussian_3x3": 3, "vertical_edge": 3, "horizontal_edge": 3,
             "unsharp_5x5": 5, "roberts_se": 2}
LAB_PARAMETRIC = {"box": ((3, 5, 7, 9), 3), "gaussian": ((3, 5, 7, 9, 11, 15), 5),
                  "motion_blur": ((5, 9, 15), 7), "log": ((5, 7, 9), 7)}
TAKES_SIGMA = ("gaussian", "log")
LAB_KERNEL_PICKS = ("sobel_x", "sobel_x", "sobel_y", "sobel_y", "scharr_x", "prewitt_x",
                    "laplacian_4", "laplacian_8", "sharpen", "sharpen", "emboss", "outline",
                    "gaussian_3x3", "vertical_edge", "horizontal_edge", "unsharp_5x5",
                    "roberts_se", "box", "box", "gaussian", "gaussian", "motion_blur", "log")
BANK_PICKS = ("sobel_y", "sobel_x", "laplacian_4", "sharpen", "emboss", "scharr_y", "box")
PAIRS = {"sobel_x": "sobel_y", "scharr_x": "scharr_y", "prewitt_x": "prewitt_y"}
LAB_IMAGES = ("photo:chelsea", "photo:coffee", "photo:astronaut", "photo:camera", "photo:brick",
              "photo:rocket", "synthetic:lecture_6x6", "synthetic:vertical_edge",
              "synthetic:checkerboard", "synthetic:disc", "synthetic:text")
LAB_RES = ("1024", "1024", "1024", "512", "256", "full")
LAB_STAGES = ("output", "conv", "biased", "activated", "pooled")
LAB_MAPPINGS = ("auto", "signed", "abs", "clip", "stretch")
ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "abs")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")

# One change of one control; the weights are what a lesson on filters looks like.
LAB_MOVES = {"kernel": 22, "bias": 14, "stride": 9, "padding": 9, "activation": 9,
             "pooling": 7, "bank": 6, "image": 6, "colour": 4, "res": 4, "dilation": 3,
             "edit": 3, "show": 2, "mapping": 2}


def lab_kernel_side(cfg: dict) -> int:
    """The side of the filter lab's kernel in ``cfg``."""
    if "kt" in cfg:
        return len(cfg["kt"].split(";"))
    k = cfg.get("k", "sobel_x")
    if k in LAB_PARAMETRIC:
        return int(cfg.get("ks", LAB_PARAMETRIC[k][1]))
    return LAB_FIXED[k]


def conv_out(n: int, k: int, cfg: dict, defaults: dict) -> int | None:
    """Output side of the layer in ``cfg`` on an ``n`` x ``n`` input with a ``k`` x ``k``
    kernel, then pooled; None when the layer cannot be applied (kernel larger than the padded
    input, a reflect padding of ``n`` or more, a pool window larger than the map)."""
    get = lambda name: cfg.get(name, defaults[name])
    s, d = int(get("s")), int(get("d"))
    ext = d * (k - 1) + 1
    pad = get("pad")
    if pad == "valid":
        lo = hi = 0
    elif pad == "same":  # at stride > 1 TensorFlow's SAME
        total = max((math.ceil(n / s) - 1) * s + ext - n, 0)
        lo, hi = total // 2, total - total // 2
    elif pad == "full":
        lo = hi = ext - 1
    else:
        lo = hi = max(int(get("ph")), int(get("pw")))
    if get("pm") != "zeros" and max(lo, hi) >= n:
        return None
    if n + lo + hi < ext:
        return None
    out = (n + lo + hi - ext) // s + 1
    if get("pool") != "none":
        pk = int(get("pk"))
        if pk > out:
            return None
        out = (out - pk) // (int(get("ps")) or pk) + 1
    return out


LAYER_DEFAULTS = {"pad": "same", "ph": "1", "pw": "1", "pm": "zeros", "s": "1", "d": "1",
                  "pool": "none", "pk": "2", "ps": "0"}


def lab_valid(cfg: dict) -> bool:
    n = 6 if cfg.get("img") == "synthetic:lecture_6x6" else 100
    if cfg.get("img") == "upload":
        n = 1000
    return conv_out(n, lab_kernel_side(cfg), cfg, LAYER_DEFAULTS) is not None


def _random_kernel_text(rng: random.Random) -> str:
    rows = [[rng.randint(-4, 4) for _ in range(3)] for _ in range(3)]
    if not any(any(r) for r in rows):
        rows[1][1] = 1
    return ";".join(",".join(str(v) for v in r) for r in rows)


def lab_change(rng: random.Random, cfg: dict, *, fixed: tuple[str, ...] = ()) -> tuple[str, dict]:
    """One control of the filter lab changed: (what, the new configuration)."""
    for _ in range(50):
        moves = {m: w for m, w in LAB_MOVES.items()
                 if not (m == "image" and "img" in fixed) and not (m == "res" and "res" in fixed)}
        move = rng.choices(list(moves), list(moves.values()))[0]
        new = dict(cfg)
        if move == "kernel":
            k = rng.choice([k for k in LAB_KERNEL_PICKS if k != cfg.get("k", "sobel_x")])
            for name in ("k", "ks", "sigma", "kt"):
                new.pop(name, None)
            new["k"] = k
            if k in LAB_PARAMETRIC:
                new["ks"] = str(rng.choice(LAB_PARAMETRIC[k][0]))
                if k in TAKES_SIGMA and rng.random() < 0.3:
                    new["sigma"] = rng.choice(("0.8", "1", "1.5", "2", "3"))
        elif move == "edit":
            new["kt"] = _random_kernel_text(rng)
        elif move == "bias":
            new["b"] = rng.choice(("-50", "-20", "-10", "10", "20", "50", "100"))
        elif move == "stride":
            new["s"] = rng.choice(("1", "2", "3", "4"))
        elif move == "dilation":
            new["d"] = rng.choice(("1", "2", "3"))
        elif move == "padding":
            pad = rng.choice(("valid", "same", "full", "custom", "same"))
            new["pad"] = pad
            if pad == "custom":
                new["ph"], new["pw"] = str(rng.randint(0, 4)), str(rng.randint(0, 4))
            if rng.random() < 0.4:
                new["pm"] = rng.choice(PAD_MODES)
        elif move == "activation":
            new["act"] = rng.choice(ACTIVATIONS)
            if new["act"] == "leaky_relu" and rng.random() < 0.5:
                new["slope"] = rng.choice(("0.1", "0.2"))
        elif move == "pooling":
            new["pool"] = rng.choice(("none", "max", "avg", "max"))
            if new["pool"] != "none":
                new["pk"] = rng.choice(("2", "3", "4"))
                new["ps"] = rng.choice(("0", "0", "1", "2"))
        elif move == "bank":
            bank = [b for b in cfg.get("bank", "").split(",") if b]
            options = [b for b in BANK_PICKS if b not in bank and b != cfg.get("k")]
            if bank and (rng.random() < 0.4 or not options):
                bank.remove(rng.choice(bank))
            elif options:
                bank.append(rng.choice(options))
            if bank:
                new["bank"] = ",".join(bank)
            else:
                new.pop("bank", None)
            new.pop("map", None)
        elif move == "image":
            new["img"] = rng.choice([i for i in LAB_IMAGES if i != cfg.get("img")])
        elif move == "colour":
            new["colour"] = rng.choice(("gray", "gray", "channels", "rgb"))
        elif move == "res":
            new["res"] = rng.choice(LAB_RES)
        elif move == "show":
            new["show"] = rng.choice(LAB_STAGES)
            bank = [b for b in new.get("bank", "").split(",") if b]
            if bank:
                maps = [str(i) for i in range(len(bank) + 1)]
                if PAIRS.get(new.get("k")) in bank:
                    maps.append("mag")
                new["map"] = rng.choice(maps)
        elif move == "mapping":
            new["mapping"] = rng.choice(LAB_MAPPINGS)
        # a filter bank holds kernels of the main kernel's size (3 x 3 here)
        if lab_kernel_side(new) != 3:
            new.pop("bank", None)
            new.pop("map", None)
        if new != cfg and lab_valid(new):
            return move, new
    return "none", dict(cfg)


# ---- the sliding window ------------------------------------------------------------------------

SW_EXAMPLES = {"edge_6x6": 6, "blur_5x5": 5, "pool_4x4": 4, "pad1_stride2": 5,
               "volume_6x6x3": 6}  # the input's side
# What an example sets when the link does not say (ui/window_view.py example_settings)
SW_IMPLIED = {"edge_6x6": {"pad": "valid", "k": "vertical_edge"},
              "blur_5x5": {"pad": "valid", "k": "gaussian_3x3"},
              "pool_4x4": {"pad": "valid", "pool": "max", "pk": "2"},
              "pad1_stride2": {"pad": "custom", "ph": "1", "pw": "1", "s": "2",
                               "k": "gaussian_3x3"},
              "volume_6x6x3": {"pad": "valid"}}
SW_KERNELS = ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "gaussian_3x3",
              "sharpen", "laplacian_4", "emboss", "box")
SW_PHOTOS = ("chelsea", "coffee", "astronaut", "camera", "brick", "text")
SW_MOVES = {"step": 30, "layer": 20, "example": 15, "kernel": 10, "random": 10, "photo": 10,
            "classroom": 5}


def sw_geometry(cfg: dict) -> tuple[int, int, dict]:
    """(input side, kernel side, the layer's defaults) of the sliding window's ``cfg``."""
    ex = cfg.get("ex", "edge_6x6")
    defaults = {**LAYER_DEFAULTS, "k": "vertical_edge", **SW_IMPLIED.get(ex, {})}
    if ex in SW_EXAMPLES:
        n = SW_EXAMPLES[ex]
    elif ex == "random":
        n = min(int(cfg.get("rows", 6)), int(cfg.get("cols", 6)))
    else:
        n = int(cfg.get("cells", 12))
    k = cfg.get("k", defaults["k"])
    side = int(cfg.get("ks", 3)) if k in LAB_PARAMETRIC else LAB_FIXED.get(k, 3)
    if ex == "volume_6x6x3":
        side = 3  # the example's own filters
    return n, side, defaults


def sw_steps(cfg: dict) -> int | None:
    """Number of output cells (the animation's steps), None when the layer cannot apply."""
    n, k, defaults = sw_geometry(cfg)
    if cfg.get("ex") == "pool_4x4":
        pool = cfg.get("pool", "max")
        pk = int(cfg.get("pk", 2))
        if pool == "none" or pk > n:
            return None
        out = (n - pk) // (int(cfg.get("ps", 0)) or pk) + 1
        return out * out
    out = conv_out(n, k, {k2: v for k2, v in cfg.items() if k2 != "pool"},
                   {**defaults, "pool": "none"})
    if out is None:
        return None
    if cfg.get("pool", defaults["pool"]) != "none" and conv_out(n, k, cfg, defaults) is None:
        return None
    if cfg.get("ex") == "random":  # rows x cols: count on the shorter side (enough for steps)
        return out * out
    return out * out


def sw_change(rng: random.Random, cfg: dict) -> tuple[str, dict]:
    """One control of the sliding window changed: (what, the new configuration)."""
    for _ in range(50):
        move = rng.choices(list(SW_MOVES), list(SW_MOVES.values()))[0]
        new = dict(cfg)
        new.pop("step", None)
        ex = cfg.get("ex", "edge_6x6")
        if move == "step":
            steps = sw_steps(cfg)
            if not steps:
                continue
            new["step"] = str(rng.randint(1, steps))
        elif move == "example":
            new = {"ex": rng.choice([e for e in SW_EXAMPLES if e != ex])}
            if "classroom" in cfg:
                new["classroom"] = cfg["classroom"]
        elif move == "classroom":
            if "classroom" in new:
                new.pop("classroom")
            else:
                new["classroom"] = "1"
        elif move == "random":
            new["ex"] = "random"
            new["rows"], new["cols"] = str(rng.randint(5, 10)), str(rng.randint(5, 10))
            new["vals"] = rng.choice(("0-9", "0-255", "-9..9"))
            new["seed"] = str(rng.randint(0, 99))
        elif move == "photo":
            new["ex"] = "photo"
            new["photo"] = rng.choice(SW_PHOTOS)
            new["cells"] = rng.choice(("8", "12", "12", "16", "16", "24", "32"))
            new["region"] = rng.choice(("48", "96", "160", "256"))
            new["x"], new["y"] = str(rng.randint(20, 80)), str(rng.randint(20, 80))
        elif move == "kernel":
            if ex in ("pool_4x4", "volume_6x6x3"):
                continue
            new["k"] = rng.choice(SW_KERNELS)
            new.pop("ks", None)
            if new["k"] == "box":
                new["ks"] = rng.choice(("3", "5"))
        elif move == "layer":
            what = rng.choice(("s", "pad", "act", "b", "pool", "flip", "d", "pm"))
            if ex == "pool_4x4":
                what = "pool"
            if what == "s":
                new["s"] = rng.choice(("1", "2"))
            elif what == "pad":
                new["pad"] = rng.choice(("valid", "same", "full", "custom"))
                if new["pad"] == "custom":
                    new["ph"], new["pw"] = str(rng.randint(0, 2)), str(rng.randint(0, 2))
            elif what == "pm":
                new["pm"] = rng.choice(PAD_MODES)
            elif what == "act":
                new["act"] = rng.choice(("identity", "relu", "sigmoid", "tanh"))
            elif what == "b":
                new["b"] = rng.choice(("-2", "-1", "1", "2", "5"))
            elif what == "pool":
                new["pool"] = rng.choice(("max", "avg") if ex == "pool_4x4"
                                         else ("none", "max", "avg"))
                new["pk"] = "2"
            elif what == "flip":
                new["flip"] = "0" if cfg.get("flip") == "1" else "1"
            elif what == "d":
                new["d"] = rng.choice(("1", "2"))
        if new != cfg and sw_steps(new):
            return move, new
    return "none", {k: v for k, v in cfg.items() if k != "step"}


# ---- CNN arithmetic, Inside a CNN, Learn a kernel -----------------------------------------------

ARITH_PRESETS = ("lenet5", "mnist", "harley", "alexnet", "alexnet_half", "vgg16", "ng_simple",
                 "ex_280", "ex_4900", "ex_fc_vs_conv", "ex_48x48", "ex_5x5_s2")


def arith_change(rng: random.Random, cfg: dict) -> tuple[str, dict]:
    preset = rng.choice([p for p in ARITH_PRESETS if p != cfg.get("preset")])
    return "preset", {"preset": preset}


FAMILY_MODES = ("transposed", "1d", "groups", "im2col", "backprop")


def family_change(rng: random.Random, cfg: dict) -> tuple[str, dict]:
    """One control of the Convolution family page: a mode, a size, a view, a step."""
    mode = cfg.get("mode", "transposed")
    move = rng.choices(("mode", "setting", "step"), (3, 4, 3))[0]
    if move == "mode":
        return move, {"mode": rng.choice([m for m in FAMILY_MODES if m != mode])}
    new = {k: v for k, v in cfg.items() if k not in ("step", "step2")}
    if move == "step":
        new["step"] = str(rng.randint(1, 9))
        return move, new
    if mode == "transposed":  # output_padding only below the stride (PyTorch's rule)
        new.update(rng.choice(({"s": "2", "k": "3"}, {"s": "2", "k": "4"}, {"view": "stamps"},
                               {"view": "zeros"}, {"view": "both"}, {"s": "2", "op": "1"})))
        if rng.random() < 0.15:
            new.pop("op", None)
            new["s"] = "1"
    elif mode == "1d":
        if rng.random() < 0.5:
            new["sig"] = rng.choice(("sine", "spike", "step"))
        else:
            new["pad"] = rng.choice(("valid", "same", "causal"))
    elif mode == "groups":
        new["g"] = rng.choice(("1", "2", "4"))
    elif mode == "backprop":
        new["bview"] = rng.choice(("forward", "dx", "dw"))
    else:
        new["c"] = rng.choice(("1", "2"))
    return move, new


def inside_change(rng: random.Random) -> tuple[str, tuple]:
    move = rng.choices(("digit", "next", "mistake"), (6, 3, 1))[0]
    if move == "digit":
        return move, (("inside_digit", "pick", str(rng.randint(0, 9))),)
    if move == "next":
        return move, (("inside_next", "trigger", None),)
    return move, (("inside_wrong", "trigger", None),)


def learn_change(rng: random.Random) -> tuple[str, tuple]:
    move = rng.choices(("train", "target", "size", "optimizer"), (5, 2, 1.5, 1.5))[0]
    if move == "train":
        return move, (("learn_train", "trigger", None),)
    if move == "target":
        return move, (("learn.target.preset", "random", None),)
    if move == "size":
        return move, (("learn.size", "pick", rng.choice(("3 x 3", "5 x 5"))),)
    return move, (("learn.optimizer", "random", None),)


def first_change(page: str, cfg: dict | None = None, label: str = "open") -> Change:
    """Arriving on ``page``: the teacher's link (or the configuration left there)."""
    cfg = dict(TEACHER.get(page, {}) if cfg is None else cfg)
    query = query_of(page, cfg) if PAGES[page].order else ""
    return Change(page, f"{PAGES[page].title}: {label}", query, (), cfg)


def next_change(rng: random.Random, page: str, cfg: dict, *,
                fixed: tuple[str, ...] = ()) -> Change:
    """One change on ``page`` from the configuration ``cfg``."""
    title = PAGES[page].title
    if page == "lab":
        move, new = lab_change(rng, cfg, fixed=fixed)
        res = new.get("res", "1024")
        return Change(page, f"{title}: {move} @{res}", query_of(page, new), (), new)
    if page == "window":
        move, new = sw_change(rng, cfg)
        return Change(page, f"{title}: {move}", query_of(page, new), (), new)
    if page == "arith":
        move, new = arith_change(rng, cfg)
        return Change(page, f"{title}: {move}", query_of(page, new), (), new)
    if page == "family":
        move, new = family_change(rng, cfg)
        return Change(page, f"{title}: {move}", query_of(page, new), (), new)
    move, actions = inside_change(rng) if page == "inside" else learn_change(rng)
    return Change(page, f"{title}: {move}", "", actions, {})


def pick_page(rng: random.Random, current: str | None) -> str:
    keys = [k for k in PAGES if k != current]
    return rng.choices(keys, [PAGES[k].weight for k in keys])[0]


# ============================================================================================
# The server's processes: memory and CPU from /proc
# ============================================================================================

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _ppids() -> dict[int, int]:
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    rest = f.read().rsplit(b")", 1)[1].split()
                out[int(entry.name)] = int(rest[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants."""
    children = defaultdict(list)
    for pid, ppid in _ppids().items():
        children[ppid].append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def memory_bytes(pid: int) -> tuple[int, bool]:
    """(PSS, True) of a process, or (RSS, False) when its smaps_rollup is unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024, True
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024, False
    except OSError:
        pass
    return 0, False


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                rest = f.read().rsplit(b")", 1)[1].split()
            total += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on this machine (all cores, not idle or iowait)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLK_TCK


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Sampler(threading.Thread):
    """Every ``period`` s: the memory of each server's process tree, with a timestamp."""

    def __init__(self, servers: dict[str, Server], period: float = 0.5):
        super().__init__(daemon=True, name="memory-sampler")
        self.servers, self.period = servers, period
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.pids: dict[str, list[int]] = {}
        self.pss = True
        self._stop = threading.Event()

    def sample(self) -> dict[str, int]:
        out = {}
        for name, server in self.servers.items():
            if server.proc is None or server.proc.poll() is not None:
                continue
            pids = process_tree(server.proc.pid)
            self.pids[name] = pids
            total = 0
            for pid in pids:
                b, pss = memory_bytes(pid)
                total += b
                self.pss &= pss
            out[name] = total
        self.samples.append((time.monotonic(), out))
        return out

    def run(self):
        while not self._stop.wait(self.period):
            self.sample()

    def stop(self):
        self._stop.set()

    def peak(self, name: str, t0: float, t1: float) -> int:
        return max((s.get(name, 0) for t, s in self.samples if t0 <= t <= t1), default=0)

    def cpu(self, name: str) -> float:
        return cpu_seconds(self.pids.get(name, ()))


# ============================================================================================
# Servers
# ============================================================================================

def free_port(exclude=()) -> int:
    for port in PORTS:
        if port in exclude:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class Server:
    """The serve command, started in the repository's root in a process group of its own."""

    def __init__(self, name: str, command: str, port: int, env: dict | None = None):
        self.name, self.port, self.env = name, port, env or {}
        self.command = command.format(port=port)
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.log = OUT / f"server-{name}-{port}.log"

    def start(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log, "wb")  # noqa: SIM115 - open while the server runs
        env = dict(os.environ, PYTHONUNBUFFERED="1", **self.env)
        self.proc = subprocess.Popen(shlex.split(self.command), cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_healthy(self, timeout: float = 300.0) -> float:
        """Poll /_stcore/health until 200; returns the seconds it took."""
        import urllib.request
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.command!r} exited with {self.proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(self.base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.command!r} not healthy after {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 15 s."""
        if self.proc is None or self.proc.poll() is not None and not self._group_alive():
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            t = time.monotonic()
            while self._group_alive() and time.monotonic() - t < wait:
                time.sleep(0.1)
            if not self._group_alive():
                break
        self._log.close()

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def replicas(self) -> int:
        """Streamlit processes in the tree (the root itself when it is Streamlit); a replica of
        deploy/serve.py is ``python -m deploy.replica run app.py``."""
        pids = process_tree(self.proc.pid)
        n = sum(("streamlit" in cmdline(p) or "deploy.replica" in cmdline(p))
                and " run " in cmdline(p) + " " for p in pids)
        return max(n, 1)


# ============================================================================================
# The protocol: one browser tab
# ============================================================================================

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "finished (fragment)"}


class Dropped(Exception):
    """The websocket closed while a run was awaited."""


@dataclass
class Run:
    """One rerun as the student saw it."""
    phase: str
    student: int
    page: str
    label: str
    query: str
    t: float                  # when it was sent, s from the phase's start
    latency: float | None     # None: no script_finished (time-out, dropped)
    status: str               # finished, finished after reruns, compile error, timeout, dropped
    errors: list = field(default_factory=list)    # [(kind, text)]
    warnings: list = field(default_factory=list)  # [text] (warning alerts: notices)
    nbytes: int = 0
    nmsgs: int = 0
    refs: int = 0             # messages sent as references to the client's cache
    first: float | None = None  # s to the run's first element (what appears first)
    cpu: float | None = None  # server CPU seconds during the run (one student only)
    shown: bool | None = None  # an expected text appeared (an upload's name)


class _Wait:
    def __init__(self, fut, expect):
        self.fut, self.expect = fut, expect
        self.first: float | None = None
        self.started = False
        self.early = 0
        self.errors, self.warnings = [], []
        self.nbytes = self.nmsgs = self.refs = 0
        self.shown = False
        self.status = None


def _user_key(element_id: str) -> str:
    return element_id.split("-", 2)[-1]


class Tab:
    """A browser tab on the app: cookies, one websocket, the frontend's message cache."""

    def __init__(self, base: str):
        import requests
        self.base = base
        self.http = requests.Session()
        self.ws = None
        self.reader = None
        self.pages: dict[str, str] = {}        # url path -> page hash
        self.widgets: dict[str, tuple] = {}    # user key -> (id, kind, element proto)
        self.query = ""                        # the URL's query as the server last set it
        self.session_id = ""
        self.cache: dict[str, list] = {}       # hash -> [run count, fragment id]
        self.run_count = 0
        self.max_age = 2
        self.got_new_session = False
        self.wait: _Wait | None = None
        self.url_responses: dict[str, asyncio.Future] = {}
        self.closed: str | None = None
        self.stray: list = []                  # errors outside any awaited run
        self.xsrf = ""

    # ---- connection ----
    def _http_open(self, path: str) -> None:
        for url in (f"{self.base}/{path}", f"{self.base}/_stcore/health",
                    f"{self.base}/_stcore/host-config"):
            self.http.get(url, timeout=30).raise_for_status()
        self.xsrf = self.http.cookies.get("_streamlit_xsrf") or ""

    async def open(self, path: str) -> None:
        from websockets.asyncio.client import connect
        await asyncio.to_thread(self._http_open, path)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        ws_url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(
            ws_url, subprotocols=["streamlit", self.xsrf or "PLACEHOLDER_AUTH_TOKEN"],
            additional_headers={"Cookie": cookie} if cookie else None, origin=self.base,
            max_size=None, ping_interval=None, open_timeout=60, close_timeout=5)
        self.closed = None
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # closing a broken socket
                await self.ws.close()
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, 10)
            except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                self.reader.cancel()
        self.http.close()

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed
        reason = "closed by the server"
        try:
            async for data in self.ws:
                self._handle(data)
        except ConnectionClosed as exc:
            reason = f"connection closed: {exc}"
        except Exception as exc:  # noqa: BLE001 - any failure ends this tab
            reason = f"reader failed: {exc!r}"
        finally:
            self.closed = reason
            w = self.wait
            if w is not None and not w.fut.done():
                w.fut.set_exception(Dropped(reason))
            for fut in self.url_responses.values():
                if not fut.done():
                    fut.set_exception(Dropped(reason))

    # ---- incoming ----
    def _error(self, kind: str, text: str) -> None:
        if self.wait is not None:
            self.wait.errors.append((kind, text))
        else:
            self.stray.append((kind, text))

    def _handle(self, data: bytes) -> None:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except DecodeError as exc:
            self._error("protocol", f"undecodable ForwardMsg: {exc}")
            return
        w = self.wait
        if w is not None:
            w.nbytes += len(data)
            w.nmsgs += 1
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":  # a message this tab said it had cached
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self._error("protocol", f"cache miss for ref_hash {msg.ref_hash}")
            else:
                entry[0] = self.run_count
            if w is not None:
                w.refs += 1
            return
        if msg.metadata.cacheable and msg.hash:  # the frontend's ForwardMsgCache
            entry = self.cache.get(msg.hash)
            if entry is not None:
                entry[0] = self.run_count
            else:
                frag = msg.delta.fragment_id if kind == "delta" else ""
                self.cache[msg.hash] = [self.run_count, frag]
        if kind == "delta":
            if w is not None and w.started and w.first is None:
                w.first = time.monotonic()
            d = msg.delta
            which = d.WhichOneof("type")
            if which == "new_element":
                self._element(d.new_element)
            elif which == "new_transient":
                for el in d.new_transient.elements:
                    self._element(el)
        elif kind == "new_session":
            ns = msg.new_session
            if ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
            self.max_age = ns.config.max_cached_message_age or 2
            self.got_new_session = True
            if w is not None:
                w.started = True
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "script_finished":
            self._finished(msg)
        elif kind == "session_event":
            ev = msg.session_event
            if ev.HasField("script_compilation_exception"):
                exc = ev.script_compilation_exception
                self._error("compile error", f"{exc.type}: {exc.message}")
        elif kind == "page_not_found":
            self._error("page not found", msg.page_not_found.page_name or "(default page)")
        elif kind == "file_urls_response":
            fut = self.url_responses.pop(msg.file_urls_response.response_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.file_urls_response)

    def _element(self, el) -> None:
        which = el.WhichOneof("type")
        if which is None:
            return
        sub = getattr(el, which)
        if which == "exception":
            text = f"{sub.type}: {sub.message}".strip()
            if sub.is_warning:
                if self.wait is not None:
                    self.wait.warnings.append(text)
            else:
                self._error("exception", text)
        elif which == "alert":
            if sub.format == Alert.ERROR:
                self._error("error alert", sub.body)
            elif sub.format == Alert.WARNING and self.wait is not None:
                self.wait.warnings.append(sub.body)
        elif (which == "markdown" and self.wait is not None and self.wait.expect
              and self.wait.expect in sub.body):
            self.wait.shown = True
        if "id" in sub.DESCRIPTOR.fields_by_name and sub.id:
            self.widgets[_user_key(sub.id)] = (sub.id, which, sub)

    def _finished(self, msg) -> None:
        status = msg.script_finished
        # the frontend ages its cache after each run that was not cut short by a rerun
        if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN and self.got_new_session:
            self.run_count += 1
            frags = set(msg.metadata.run.fragment_ids)
            for h, (count, frag) in list(self.cache.items()):
                if frags and (not frag or frag not in frags):
                    continue
                if self.run_count - count > self.max_age:
                    del self.cache[h]
        w = self.wait
        if w is None or not w.started:
            return  # the end of an earlier run
        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            w.early += 1  # the script reran itself: wait for the run that follows
            w.started = False
            return
        w.status = FINISHED.get(status, str(status))
        if not w.fut.done():
            w.fut.set_result(None)

    # ---- outgoing ----
    def _state(self, key: str, op: str, value, rng: random.Random) -> WidgetState | None:
        known = self.widgets.get(key)
        if known is None:
            return None
        wid, kind, proto = known
        state = WidgetState(id=wid)
        if op == "trigger":
            state.trigger_value = True
            return state
        if kind == "button_group":
            options = [o.content for o in proto.options]
        else:
            options = list(proto.options)
        if op == "random":
            value = rng.choice(options) if options else None
        if value is None or (options and value not in options):
            return None
        if kind in ("button_group", "slider", "multiselect"):
            state.string_array_value.data.append(value)
        else:
            state.string_value = value
        return state

    async def rerun(self, page: str, query: str, states=(), *, timeout: float,
                    expect: str | None = None) -> _Wait:
        """Send a rerun request; returns when its run has finished (or raise Dropped,
        asyncio.TimeoutError)."""
        if self.closed:
            raise Dropped(self.closed)
        path = PAGES[page].path if page in PAGES else ""
        m = BackMsg()
        cs = m.rerun_script
        cs.query_string = query
        if path in self.pages:
            cs.page_script_hash = self.pages[path]
        else:
            cs.page_name = path
        cs.widget_states.SetInParent()
        cs.widget_states.widgets.extend(s for s in states if s is not None)
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "Europe/Berlin", -60, "en-US"
        ci.url = f"{self.base}/{path}" + (f"?{query}" if query else "")
        ci.is_embedded, ci.color_scheme = False, "light"
        loop = asyncio.get_running_loop()
        w = self.wait = _Wait(loop.create_future(), expect)
        self.got_new_session = False
        try:
            await self.ws.send(m.SerializeToString())
            await asyncio.wait_for(asyncio.shield(w.fut), timeout)
        finally:
            self.wait = None
        return w

    async def upload(self, key: str, name: str, data: bytes, mime: str = "image/jpeg"):
        """Upload a file as the frontend does; returns the uploader's widget state."""
        if key not in self.widgets:
            raise RuntimeError(f"no widget {key!r} on the page")
        wid = self.widgets[key][0]
        rid = uuid.uuid4().hex
        fut = self.url_responses[rid] = asyncio.get_running_loop().create_future()
        m = BackMsg()
        m.file_urls_request.request_id = rid
        m.file_urls_request.file_names.append(name)
        m.file_urls_request.session_id = self.session_id
        await self.ws.send(m.SerializeToString())
        resp = await asyncio.wait_for(fut, 30)
        if resp.error_msg or not resp.file_urls:
            raise RuntimeError(f"file URL request refused: {resp.error_msg}")
        urls = resp.file_urls[0]

        def put():
            r = self.http.put(self.base + urls.upload_url, files={name: (name, data, mime)},
                              headers={"X-Xsrftoken": self.xsrf, "Origin": self.base},
                              timeout=300)
            if r.status_code >= 300:
                raise RuntimeError(f"upload: HTTP {r.status_code} {r.text[:200]}")
        await asyncio.to_thread(put)
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id)
        info.file_urls.CopyFrom(urls)
        state = WidgetState(id=wid)
        state.file_uploader_state_value.CopyFrom(FileUploaderState(uploaded_file_info=[info]))
        return state


# ============================================================================================
# Students and phases
# ============================================================================================

class Phase:
    """Everything measured during one phase."""

    def __init__(self, name: str, server: str, students: int):
        self.name, self.server, self.students = name, server, students
        self.runs: list[Run] = []
        self.events: list[tuple[str, str]] = []  # (kind, text): drops, failed uploads...
        self.t0 = self.t1 = 0.0
        self.info: dict = {}

    def add(self, run: Run) -> None:
        self.runs.append(run)


class Context:
    def __init__(self, args, sampler: Sampler, servers: dict[str, Server]):
        self.args, self.sampler, self.servers = args, sampler, servers


async def do_run(tab: Tab, phase: Phase, student: int, change: Change, states=(), *,
                 ctx: Context, measure_cpu: bool = False, expect: str | None = None,
                 rng: random.Random | None = None, timeout: float | None = None) -> Run:
    """One rerun, recorded."""
    timeout = timeout or ctx.args.timeout
    rng = rng or random.Random(0)
    actions = [tab._state(k, op, v, rng) for k, op, v in change.actions]
    missing = [k for (k, _, _), s in zip(change.actions, actions) if s is None]
    label = change.label + (" (widget not found)" if missing else "")
    cpu0 = ctx.sampler.cpu(phase.server) if measure_cpu else None
    t0 = time.monotonic()
    run = Run(phase.name, student, change.page, label, change.query or "",
              t0 - phase.t0, None, "")
    try:
        w = await tab.rerun(change.page, change.query, [*states, *actions],
                            timeout=timeout, expect=expect)
        run.latency = time.monotonic() - t0
        run.status = w.status + (f" after {w.early} rerun(s)" if w.early else "")
        run.errors, run.warnings = w.errors, w.warnings
        run.nbytes, run.nmsgs, run.refs = w.nbytes, w.nmsgs, w.refs
        run.shown = w.shown if expect else None
        run.first = None if w.first is None else w.first - t0
        if w.status == "compile error" and not run.errors:
            run.errors.append(("compile error", "the run ended with a compile error"))
    except TimeoutError:
        run.status = "timeout"
        run.errors.append(("timeout", f"no script_finished within {timeout:.0f} s"))
    except (Dropped, OSError) as exc:
        run.status = "dropped"
        run.errors.append(("dropped", str(exc)))
    if cpu0 is not None and run.latency is not None:
        run.cpu = ctx.sampler.cpu(phase.server) - cpu0
    phase.add(run)
    return run


async def student(idx: int, phase: Phase, ctx: Context, end: float, *, tour: bool = False,
                  start_page: str | None = None, pace: tuple[float, float] = (2.0, 4.0),
                  per_page: int | None = None) -> None:
    """A student of the class until ``end`` (monotonic time). ``tour``: every page in the
    lesson's order, the server's CPU read around each rerun (one student alone);
    ``per_page``: that many changes on each page, then stop (the profile)."""
    args = ctx.args
    rng = random.Random(args.seed * 100_003 + idx + (7_777 if per_page else 0))
    base = ctx.servers[phase.server].base
    await asyncio.sleep(rng.uniform(0, min(5.0, 0.1 * phase.students)))  # the class arrives
    page = start_page or pick_page(rng, None)
    if tour:
        page = TOUR[0]
    cfgs: dict[str, dict] = {}
    tab = Tab(base)
    try:
        try:
            await tab.open(PAGES[page].path)
        except Exception as exc:  # noqa: BLE001 - a refused connection is a result
            phase.events.append(("connect failed", repr(exc)))
            return
        change = first_change(page)
        cfgs[page] = change.cfg
        last = time.monotonic()
        run = await do_run(tab, phase, idx, change, ctx=ctx, measure_cpu=tour, rng=rng)
        # the tour (one student) spends the phase evenly on every page, 3 s a change
        tour_stay = per_page or max(1, int((end - last) / 3.0 / len(TOUR)) - 1)
        stay = tour_stay if tour else rng.randint(3, 8)
        visits = 0
        while True:
            wake = last + rng.uniform(*pace)
            if wake >= end or (per_page and stay <= 0 and visits + 1 >= len(TOUR)):
                break
            await asyncio.sleep(max(0.0, wake - time.monotonic()))
            if tab.closed:  # the browser reconnects: a new session
                if run.status != "dropped":  # not yet counted
                    phase.events.append(("dropped", tab.closed))
                await tab.close()
                tab = Tab(base)
                try:
                    await tab.open(PAGES[page].path)
                except Exception as exc:  # noqa: BLE001
                    phase.events.append(("reconnect failed", repr(exc)))
                    return
                change = first_change(page, cfgs.get(page), "reconnect")
            elif stay <= 0:  # on to another page
                visits += 1
                page = TOUR[visits % len(TOUR)] if tour else pick_page(rng, page)
                change = first_change(page, cfgs.get(page), "switch")
                stay = tour_stay if tour else rng.randint(3, 8)
            else:
                change = next_change(rng, page, cfgs.get(page, {}))
                stay -= 1
            cfgs[page] = change.cfg
            last = time.monotonic()
            run = await do_run(tab, phase, idx, change, ctx=ctx, measure_cpu=tour, rng=rng)
    finally:
        await tab.close()


def floor_change(rng: random.Random, opening: bool) -> Change:
    if opening:
        return Change("floor", "floor: open", "")
    return Change("floor", "floor: slider", f"v={rng.randint(0, 100)}")


async def floor_student(idx: int, phase: Phase, ctx: Context, end: float) -> None:
    rng = random.Random(ctx.args.seed * 100_003 + idx)
    tab = Tab(ctx.servers[phase.server].base)
    await asyncio.sleep(rng.uniform(0, min(5.0, 0.1 * phase.students)))
    try:
        try:
            await tab.open("")
        except Exception as exc:  # noqa: BLE001
            phase.events.append(("connect failed", repr(exc)))
            return
        last = time.monotonic()
        await do_run(tab, phase, idx, floor_change(rng, True), ctx=ctx, rng=rng)
        while not tab.closed:
            wake = last + rng.uniform(2.0, 4.0)
            if wake >= end:
                break
            await asyncio.sleep(max(0.0, wake - time.monotonic()))
            last = time.monotonic()
            await do_run(tab, phase, idx, floor_change(rng, False), ctx=ctx, rng=rng)
    finally:
        await tab.close()


# ---- uploads -------------------------------------------------------------------------------

def make_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG: colour waves, a few sharp shapes and sensor-like noise (cached in
    bench/out/)."""
    path = OUT / f"photo-{width}x{height}.jpg"
    if path.exists():
        return path.read_bytes()
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
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def unique_photo(photo: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment after SOI: other bytes, so the app's caches (keyed
    on the upload's bytes) see a new photo, as they would with another student's."""
    text = f"classroom bench {tag}".encode()
    return photo[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + photo[2:]


async def open_with_upload(tab: Tab, phase: Phase, idx: int, ctx: Context, photo: bytes,
                           name: str, rng: random.Random) -> tuple[WidgetState, WidgetState] | None:
    """Open the filter lab, choose Upload, upload ``photo``: returns the widget states
    (source, file) to send with every later rerun, or None after a failure (recorded)."""
    await tab.open("")
    await do_run(tab, phase, idx, first_change("lab", {}), ctx=ctx, rng=rng)
    src = tab._state("lab.src", "pick", "Upload", rng)
    if src is None:
        phase.events.append(("upload failed", "no 'lab.src' pills with an 'Upload' option"))
        return None
    run = await do_run(tab, phase, idx, Change("lab", "filter lab: choose Upload", tab.query),
                       [src], ctx=ctx, rng=rng)
    if run.latency is None:
        return None
    t = time.monotonic()
    try:
        file_state = await tab.upload("lab.file", name, photo)
    except Exception as exc:  # noqa: BLE001 - a failed upload is a result
        phase.events.append(("upload failed", repr(exc)))
        phase.add(Run(phase.name, idx, "lab", "filter lab: upload (PUT)", "",
                      t - phase.t0, None, "upload failed", [("upload", repr(exc))]))
        return None
    phase.info.setdefault("put_seconds", []).append(time.monotonic() - t)
    await do_run(tab, phase, idx, Change("lab", "filter lab: uploaded photo", tab.query),
                       [src, file_state], ctx=ctx, expect=name, rng=rng)
    return src, file_state


async def upload_student(idx: int, phase: Phase, ctx: Context, end: float,
                         photo: bytes) -> None:
    """Uploads a 12 MP photo, then changes the layer at full resolution until ``end``."""
    rng = random.Random(ctx.args.seed * 100_003 + 7919 * (idx + 1))
    tab = Tab(ctx.servers[phase.server].base)
    await asyncio.sleep(rng.uniform(0, 2.0))
    name = f"student-{idx}-photo.jpg"
    try:
        states = await open_with_upload(tab, phase, idx, ctx, unique_photo(photo, name),
                                        name, rng)
        if states is None:
            return
        cfg = {"img": "upload", "res": "full"}
        last = time.monotonic()
        await do_run(tab, phase, idx, Change("lab", "filter lab: res full", query_of("lab", cfg),
                                             cfg=cfg), states, ctx=ctx, rng=rng)
        while not tab.closed:
            wake = last + rng.uniform(2.0, 4.0)
            if wake >= end:
                break
            await asyncio.sleep(max(0.0, wake - time.monotonic()))
            move, cfg = lab_change(rng, cfg, fixed=("img", "res"))
            last = time.monotonic()
            await do_run(tab, phase, idx, Change("lab", f"filter lab: {move} @full (12 MP)",
                                                 query_of("lab", cfg), cfg=cfg),
                         states, ctx=ctx, rng=rng)
    except Exception as exc:  # noqa: BLE001 - recorded, the phase goes on
        phase.events.append(("upload student failed", repr(exc)))
    finally:
        await tab.close()


async def tab_with_upload(idx: int, phase: Phase, ctx: Context, photo: bytes) -> None:
    """A tab that opens the lab, uploads a 12 MP photo, sees it shown, and closes."""
    rng = random.Random(ctx.args.seed * 100_003 + 104_729 * (idx + 1))
    tab = Tab(ctx.servers[phase.server].base)
    name = f"tab-{idx}-photo.jpg"
    try:
        await open_with_upload(tab, phase, idx, ctx, unique_photo(photo, name), name, rng)
    except Exception as exc:  # noqa: BLE001
        phase.events.append(("tab failed", repr(exc)))
    finally:
        await tab.close()


# ============================================================================================
# Figures
# ============================================================================================

def pct(values, q: float) -> float | None:
    """The q-th percentile (linear interpolation, as numpy's default)."""
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def fs(x: float | None, unit: str = "s", digits: int = 2) -> str:
    if x is None:
        return "-"
    if unit == "ms":
        return f"{x * 1000:.0f} ms"
    return f"{x:.{digits}f} s"


def gb(b: float | None) -> str:
    return "-" if b is None else f"{b / 1024 ** 3:.2f} GB"


def error_counts(runs: list[Run]) -> Counter:
    c = Counter()
    for r in runs:
        for kind, _ in r.errors:
            c[kind] += 1
    return c


def long_by_design(run: Run) -> bool:
    return run.label.startswith(LONG_BY_DESIGN)


def page_key(run: Run) -> str:
    return "train" if long_by_design(run) else run.page


def is_link_notice(text: str) -> bool:
    """A page's notice about its URL (ui/state.py): the students sent a value it refused."""
    return text.startswith(("The link", "This link"))


def summarise(phase: Phase) -> dict:
    runs = phase.runs
    lat = [r.latency for r in runs if r.latency is not None and not long_by_design(r)]
    errors = error_counts(runs) + Counter(kind for kind, _ in phase.events)
    statuses = Counter(r.status.split(" after")[0] for r in runs)
    by_page = {}
    for key in {page_key(r) for r in runs}:
        mine = [r for r in runs if page_key(r) == key]
        pl = [r.latency for r in mine if r.latency is not None]
        cpu = [r.cpu for r in mine if r.cpu is not None]
        first = [r.first for r in mine if r.first is not None]
        by_page[key] = {"reruns": len(pl), "median": pct(pl, 50), "p95": pct(pl, 95),
                        "max": max(pl, default=None), "first_median": pct(first, 50),
                        "cpu_mean": sum(cpu) / len(cpu) if cpu else None}
    warnings = [w for r in runs for w in r.warnings]
    return {"phase": phase.name, "server": phase.server, "students": phase.students,
            "reruns": len(runs), "finished": sum(r.latency is not None for r in runs),
            "median": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat, default=None),
            "errors": dict(errors), "error_total": sum(errors.values()),
            "statuses": dict(statuses),
            "reran_itself": sum(" after " in r.status for r in runs),
            "warnings": len(warnings),
            "link_notices": sum(is_link_notice(w) for w in warnings),
            "mb_received": sum(r.nbytes for r in runs) / MB,
            "refs": sum(r.refs for r in runs), "by_page": by_page, **phase.info}


def print_examples(phase: Phase, limit: int = 4) -> None:
    seen = Counter()
    lines = []
    for r in phase.runs:
        for kind, text in r.errors:
            key = (kind, text[:120])
            seen[key] += 1
            if seen[key] == 1 and len(lines) < limit:
                lines.append(f"    {kind}: {text[:300]!r}  (run {r.label!r}, query {r.query[:120]!r})")
    for kind, text in phase.events:
        if kind != "dropped" and len(lines) < limit + 2:
            lines.append(f"    {kind}: {text[:300]}")
    warnings = Counter(w[:160] for r in phase.runs for w in r.warnings)
    for text, n in warnings.most_common(2):
        lines.append(f"    warning shown x{n}: {text!r}")
    if lines:
        print(f"  examples from {phase.name}:")
        print("\n".join(lines))


# ============================================================================================
# The benchmark
# ============================================================================================

async def run_students(phase: Phase, ctx: Context, duration: float, *, tour=False) -> None:
    phase.t0 = time.monotonic()
    end = phase.t0 + duration
    tasks = []
    for i in range(phase.students):
        start = None if tour else (TOUR[i] if i < len(TOUR) else None)
        tasks.append(asyncio.create_task(student(i, phase, ctx, end, tour=tour,
                                                 start_page=start)))
    await asyncio.gather(*tasks)
    phase.t1 = time.monotonic()


async def run_floor(phase: Phase, ctx: Context, duration: float) -> None:
    meter = Meter(ctx, phase.server)
    phase.t0 = time.monotonic()
    end = phase.t0 + duration
    await asyncio.gather(*(floor_student(i, phase, ctx, end) for i in range(phase.students)))
    phase.t1 = time.monotonic()
    phase.info.update(meter.read())
    phase.info["mem_peak"] = ctx.sampler.peak(phase.server, phase.t0, phase.t1 + 1)


class Meter:
    """CPU of the server, of this benchmark and of the rest of the machine over a stretch."""

    def __init__(self, ctx: Context, server: str):
        self.ctx, self.server = ctx, server
        self.t = time.monotonic()
        self.cpu = ctx.sampler.cpu(server)
        self.me = time.process_time()
        self.busy = machine_busy_seconds()
        self.others0 = sum(ctx.sampler.cpu(n) for n in ctx.servers if n != server)

    def read(self) -> dict:
        wall = max(time.monotonic() - self.t, 1e-9)
        server = self.ctx.sampler.cpu(self.server) - self.cpu
        me = time.process_time() - self.me
        other_servers = sum(self.ctx.sampler.cpu(n) for n in self.ctx.servers
                            if n != self.server) - self.others0
        rest = machine_busy_seconds() - self.busy - server - me - other_servers
        return {"wall": wall, "server_cpu_s": server, "server_cores": server / wall,
                "bench_cores": me / wall, "other_cores": max(rest, 0.0) / wall,
                "loadavg": Path("/proc/loadavg").read_text().split()[0]}


async def idle_wait(ctx: Context, seconds: float, floor_phase: Phase | None,
                    floor_duration: float) -> None:
    """Wait ``seconds`` (everyone has left); the floor's phase runs meanwhile."""
    t_end = time.monotonic() + seconds
    if floor_phase is not None:
        await run_floor(floor_phase, ctx, floor_duration)
    await asyncio.sleep(max(0.0, t_end - time.monotonic()))


async def warm_up(ctx: Context, report: dict, healthy_at: float, replicas: int) -> None:
    """One student visits every page once (the first visit compiles numba's functions); behind
    a balancer, one such student per replica (each new tab, without a cookie yet, is sent to
    the next replica)."""
    phase = Phase("warm-up", "app", 1)
    phase.t0 = healthy_at
    report["warm_up"] = []
    for replica in range(replicas):
        tab = Tab(ctx.servers["app"].base)
        firsts = {}
        try:
            await tab.open("")
            for page in TOUR:
                # a first visit may compile for a long time: it is measured, not cut short
                run = await do_run(tab, phase, 0, first_change(page, label="first visit"),
                                   ctx=ctx, timeout=max(ctx.args.timeout, 600.0))
                firsts[page] = run
                if page == "lab" and replica == 0:
                    report["first_visit_after_healthy"] = time.monotonic() - healthy_at
        finally:
            await tab.close()
        report["warm_up"].append({p: {"latency": r.latency, "status": r.status,
                                      "errors": r.errors} for p, r in firsts.items()})
        if replica == 0:
            fv = report.get("first_visit_after_healthy")
            print(f"first visit after healthy: {fs(fv)} (target {FIRST_VISIT_TARGET:.0f} s)"
                  f"{'' if fv is not None and fv <= FIRST_VISIT_TARGET else '  OVER TARGET'}")
        print(f"  first visit of each page{f' (tab {replica + 1})' if replicas > 1 else ''}: "
              + ", ".join(f"{PAGES[p].title} {fs(r.latency)}" + (f" [{r.status}]" if r.errors
                                                                    else "")
                          for p, r in firsts.items()))
        for r in firsts.values():
            for kind, text in r.errors[:2]:
                print(f"    {kind}: {text[:200]!r}")


def print_phase_table(rows: list[dict], replicas: int, budget: float, idle: float) -> None:
    peak_target = budget * replicas + idle
    print()
    print(f"{'phase':<16}{'N':>4}{'reruns':>8}{'median':>9}{'p95':>9}{'target':>9}"
          f"{'max':>9}{'errors':>8}{'peak mem':>10}{'target':>9}{'after idle':>11}"
          f"{'target':>9}{'server':>8}{'bench':>7}{'others':>8}")
    print(f"{'':<16}{'':>4}{'':>8}{'':>9}{'':>9}{'':>9}{'':>9}{'':>8}{'':>10}{'':>9}{'':>11}"
          f"{'':>9}{'cores':>8}{'cores':>7}{'cores':>8}")
    for s in rows:
        n = s["students"]
        t = P95_TARGET.get(n) if s["server"] == "app" and s["phase"].startswith("N=") else None
        ok = "" if t is None or s["p95"] is None else ("" if s["p95"] <= t else "!")
        after = s.get("mem_after_idle")
        after_target = idle * (1 + IDLE_TOLERANCE) if s["server"] == "app" and after else None
        mem_ok = "!" if s["server"] == "app" and s.get("mem_peak", 0) > peak_target else ""
        after_ok = "!" if after_target and after and after > after_target else ""
        err = s["error_total"]
        err_flag = "!" if err and s["server"] == "app" else ""
        print(f"{s['phase']:<16}{n:>4}{s['reruns']:>8}{fs(s['median']):>9}"
              f"{fs(s['p95']) + ok:>9}{fs(t, digits=1) if t else '':>9}{fs(s['max']):>9}"
              f"{str(err) + err_flag:>8}{gb(s.get('mem_peak')) + mem_ok:>10}"
              f"{gb(peak_target) if s['server'] == 'app' else '':>9}"
              f"{gb(after) + after_ok if after else '-':>11}"
              f"{'<' + gb(after_target) if after_target else '':>9}"
              f"{s['server_cores']:>8.2f}{s['bench_cores']:>7.2f}{s['other_cores']:>8.2f}")
    print("  ! = over target. p95/median: from the rerun request to script_finished "
          "(Learn a kernel's Train, seconds by design, left out: see per page). "
          "peak mem: all server processes (PSS). after idle: --idle-after s after everyone "
          "left. cores: average over the phase (server tree, this benchmark, all other "
          "processes of the machine).")


def print_errors(rows: list[dict]) -> None:
    lines = []
    for s in rows:
        if s["errors"] or s["warnings"] or s["reran_itself"]:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(s["errors"].items()) if v)
            lines.append(f"  {s['phase']:<16} errors: {kinds or 'none'}; warning alerts "
                         f"{s['warnings']} (notices about the link: {s['link_notices']}); "
                         f"runs preceded by a run cut short {s['reran_itself']}")
    if lines:
        print("\nerrors by kind (a warning alert is page content, e.g. the notes' corrections; "
              "a notice about the link would mean the benchmark sent a bad value; a run cut "
              "short is a FINISHED_EARLY_FOR_RERUN seen before the run's own end, as when the "
              "request follows a timed-out run still going on the server):")
        print("\n".join(lines))


PAGE_ROWS = [*PAGES, "train"]


def row_title(key: str) -> str:
    return PAGES[key].title if key in PAGES else "  Train (long by design, not in p95)"


def print_pages(phases: list[Phase], rows: list[dict]) -> None:
    print("\nper page (latency median / p95, reruns):")
    names = [s["phase"] for s in rows if s["server"] == "app"]
    print(f"{'page':<38}" + "".join(f"{n:>22}" for n in names))
    for key in PAGE_ROWS:
        cells = []
        for s in rows:
            if s["phase"] not in names:
                continue
            p = s["by_page"].get(key)
            cells.append("-" if not p else
                         f"{fs(p['median'])}/{fs(p['p95'])} ({p['reruns']})")
        print(f"{row_title(key):<38}" + "".join(f"{c:>22}" for c in cells))
    trains = [s["by_page"]["train"]["first_median"] for s in rows
              if s["server"] == "app" and "train" in s["by_page"]]
    if trains:
        print("  Train: time to its first element (the progress bar), median by phase: "
              + ", ".join(fs(t) for t in trains))


def print_single(phase: Phase) -> None:
    """Server CPU per rerun and latency per page, one student (the N = 1 phase)."""
    print(f"\none student ({phase.name}): server CPU per rerun and latency, by page")
    print("  (server CPU: utime + stime of the server's processes, read in 10 ms ticks before "
          "and after each rerun; the mean over many reruns is the precise figure)")
    print(f"{'page / configuration':<38}{'reruns':>7}{'CPU mean':>10}{'CPU max':>9}"
          f"{'latency med':>12}{'max':>8}  target")
    groups = defaultdict(list)
    for r in phase.runs:
        if r.latency is None:
            continue
        groups[row_title(page_key(r))].append(r)
        if r.page == "lab":
            res = r.label.rsplit("@", 1)[-1] if "@" in r.label else "1024"
            groups[f"  filter lab @{res}"].append(r)
    order = [row_title(k) for k in PAGE_ROWS] + sorted(
        g for g in groups if g.startswith("  filter lab"))
    for g in order:
        runs = groups.get(g)
        if not runs:
            continue
        cpu = [r.cpu for r in runs if r.cpu is not None]
        lat = [r.latency for r in runs]
        target = LAB_1024_CPU_TARGET if g == "  filter lab @1024" else (
            PAGE_TARGET if not g.startswith("  ") else None)
        mean = sum(cpu) / len(cpu) if cpu else None
        what = mean if g == "  filter lab @1024" else pct(lat, 50)
        flag = "" if target is None or what is None or what <= target else "  OVER TARGET"
        tdesc = (("CPU mean " if g == "  filter lab @1024" else "latency median ")
                 + fs(target, "ms")) if target else ""
        print(f"{g:<38}{len(runs):>7}{fs(mean, 'ms'):>10}{fs(max(cpu, default=None), 'ms'):>9}"
              f"{fs(pct(lat, 50), 'ms'):>12}{fs(max(lat), 'ms'):>8}  {tdesc}{flag}")
    slow = sorted((r for r in phase.runs if r.cpu is not None), key=lambda r: -r.cpu)[:6]
    if slow:
        print("  most server CPU per rerun:")
        for r in slow:
            print(f"    {fs(r.cpu, 'ms'):>8}  {r.label:<36} {r.query[:90]}")


def change_kind(run: Run) -> str:
    """A run's label without what varies within a kind ("(widget not found)")."""
    return run.label.replace(" (widget not found)", "")


def print_profile(phase: Phase, limit: int = 14) -> None:
    """Server CPU per rerun by kind of change: one student, changes back to back."""
    agg = defaultdict(list)
    for r in phase.runs:
        if r.cpu is not None:
            agg[change_kind(r)].append(r)
    rows = sorted(agg.items(), key=lambda kv: -sum(r.cpu for r in kv[1]) / len(kv[1]))
    print(f"\nprofile: one student, {phase.info.get('per_page')} changes per page back to back; "
          f"server CPU per rerun by kind of change (most expensive first; @res: the lab's "
          f"working resolution)")
    print(f"{'kind of change':<44}{'reruns':>7}{'CPU mean':>10}{'CPU max':>9}{'latency med':>13}")
    for label, runs in rows[:limit]:
        cpu = [r.cpu for r in runs]
        print(f"{label:<44}{len(runs):>7}{fs(sum(cpu) / len(cpu), 'ms'):>10}"
              f"{fs(max(cpu), 'ms'):>9}{fs(pct([r.latency for r in runs], 50), 'ms'):>13}")
    worst = sorted(phase.runs, key=lambda r: -(r.cpu or 0))[:5]
    print("  the most expensive reruns:")
    for r in worst:
        print(f"    {fs(r.cpu, 'ms'):>8}  {change_kind(r):<36} {r.query[:100]}")


async def main_async(args) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    cold = {}
    if args.cold_numba:  # an empty numba cache: what a fresh deployment's first visit costs
        import tempfile
        cold = {"NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="classroom-numba-")}
    servers = {"app": Server("app", args.serve, free_port(), cold)}
    if "floor" not in args.skip:
        # not on the ports right after the app's: deploy/serve.py puts its replicas there
        app_port = servers["app"].port
        servers["floor"] = Server("floor", args.floor_serve,
                                  free_port(exclude=set(range(app_port, app_port + 17))))
    sampler = Sampler(servers)
    ctx = Context(args, sampler, servers)
    report: dict = {"args": vars(args), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "cores": len(os.sched_getaffinity(0)), "phases": []}
    phases: list[Phase] = []
    rows: list[dict] = []
    photo = None
    if "uploads" not in args.skip or "tabs" not in args.skip:
        photo = make_photo()
    try:
        for s in servers.values():
            s.start()
        t_start = time.monotonic()
        healthy = servers["app"].wait_healthy()
        healthy_at = time.monotonic()
        if "floor" in servers:
            servers["floor"].wait_healthy()
        sampler.start()
        replicas = args.replicas or servers["app"].replicas()
        mem0 = sampler.sample().get("app", 0)
        print(f"server: {servers['app'].command!r} ({replicas} replica(s)), healthy after "
              f"{healthy:.1f} s; {report['cores']} cores, load average "
              f"{Path('/proc/loadavg').read_text().split()[0]}; machine shared with other work")
        print(f"memory right after start: {gb(mem0)} "
              f"({'PSS' if sampler.pss else 'RSS'}, all server processes)")
        await warm_up(ctx, report, healthy_at, replicas)
        await asyncio.sleep(2)
        idle = sampler.sample().get("app", 0)
        report.update(mem_start=mem0, mem_idle=idle, replicas=replicas, healthy_s=healthy,
                      started_to_healthy=healthy_at - t_start)
        print(f"idle memory after warm-up: {gb(idle)}; budget {args.budget_gb:g} GB x "
              f"{replicas} replica(s) + idle = peak target {gb(args.budget_gb * 1024 ** 3 * replicas + idle)}")

        async def measured(phase: Phase, body, floor_phase: Phase | None = None,
                           before: int | None = None):
            """Run ``body`` (the phase), then wait --idle-after s (the floor's phase runs
            meanwhile) and record the memory."""
            meter = Meter(ctx, phase.server)
            t0 = time.monotonic()
            await body
            phase.info.update(meter.read())
            phase.info["mem_peak"] = sampler.peak(phase.server, t0, time.monotonic() + 1)
            phase.info["mem_right_after"] = sampler.sample().get(phase.server, 0)
            if before is not None:
                phase.info["mem_before"] = before
            print(f"  {phase.name}: {len(phase.runs)} reruns in {phase.info['wall']:.0f} s; "
                  f"server {phase.info['server_cores']:.2f} cores, peak "
                  f"{gb(phase.info['mem_peak'])}", flush=True)
            if "idle" not in args.skip:
                await idle_wait(ctx, args.idle_after, floor_phase, args.duration)
                phase.info["mem_after_idle"] = sampler.sample().get(phase.server, 0)
            elif floor_phase is not None:
                await run_floor(floor_phase, ctx, args.duration)
            for p in (phase, floor_phase):
                if p is not None:
                    phases.append(p)
                    rows.append(summarise(p))
                    print_examples(p)

        async def run_profile():
            """One student, ``--profile`` changes per page back to back, CPU per rerun."""
            phase = Phase("profile", "app", 1)
            phase.info["per_page"] = args.profile
            print(f"\nprofile: one student, {args.profile} changes per page back to back",
                  flush=True)
            meter = Meter(ctx, "app")
            phase.t0 = time.monotonic()
            await student(0, phase, ctx, phase.t0 + 3600, tour=True, pace=(0.2, 0.4),
                          per_page=args.profile)
            phase.t1 = time.monotonic()
            phase.info.update(meter.read())
            phase.info["mem_peak"] = sampler.peak("app", phase.t0, phase.t1 + 1)
            print(f"  profile: {len(phase.runs)} reruns in {phase.info['wall']:.0f} s",
                  flush=True)
            phases.append(phase)
            rows.append(summarise(phase))
            print_examples(phase)

        for n in args.students:
            if n != args.students[0] and args.profile and not any(
                    p.name == "profile" for p in phases):
                await run_profile()
            phase = Phase(f"N={n}", "app", n)
            floor = Phase(f"floor N={n}", "floor", n) if "floor" in servers else None
            print(f"\nphase {phase.name}: {n} student(s) for {args.duration:.0f} s"
                  + (", then the floor while the server idles" if floor else ""), flush=True)
            await measured(phase, run_students(phase, ctx, args.duration, tour=(n == 1)), floor)

        if args.profile and not any(p.name == "profile" for p in phases):
            await run_profile()

        if "uploads" not in args.skip and args.uploads:
            phase = Phase(f"uploads x{args.uploads}", "app", args.uploads)
            print(f"\nphase {phase.name}: {args.uploads} students upload a 12 MP photo "
                  f"({len(photo) / 1e6:.1f} MB JPEG), then change the layer at full resolution "
                  f"for {args.duration:.0f} s", flush=True)
            before = sampler.sample().get("app", 0)

            async def uploads():
                phase.t0 = time.monotonic()
                end = phase.t0 + args.duration
                await asyncio.gather(*(upload_student(i, phase, ctx, end, photo)
                                       for i in range(args.uploads)))
            await measured(phase, uploads(), before=before)

        if "tabs" not in args.skip and args.tabs:
            phase = Phase(f"tabs x{args.tabs}", "app", 1)
            print(f"\nphase {phase.name}: {args.tabs} tabs, one after another, each uploads a "
                  f"12 MP photo, sees it shown and closes", flush=True)
            before = sampler.sample().get("app", 0)

            async def tabs():
                phase.t0 = time.monotonic()
                for i in range(args.tabs):
                    await tab_with_upload(i, phase, ctx, photo)
            await measured(phase, tabs(), before=before)
            shown = [r.shown for r in phase.runs if r.shown is not None]
            phase.info["shown"] = f"{sum(shown)}/{args.tabs}"
            rows[-1]["shown"] = phase.info["shown"]
    finally:
        sampler.stop()
        for s in servers.values():
            s.stop()
        if cold:
            import shutil
            shutil.rmtree(cold["NUMBA_CACHE_DIR"], ignore_errors=True)

    # ---- report ----
    print("\n" + "=" * 100)
    print(f"classroom benchmark, {report['started']}, {report['cores']} cores (shared), "
          f"server {args.serve!r}")
    idle = report.get("mem_idle", 0)
    replicas = report.get("replicas", 1)
    if rows:
        print_phase_table(rows, replicas, args.budget_gb * 1024 ** 3, idle)
        print_errors(rows)
        print_pages(phases, rows)
        single = next((p for p in phases if p.name == "N=1"), None)
        if single is not None:
            print_single(single)
        profile = next((p for p in phases if p.name == "profile"), None)
        if profile is not None:
            print_profile(profile)
        for s in rows:
            if s["phase"].startswith("uploads"):
                put = s.get("put_seconds") or []
                full = [r.latency for p in phases if p.name == s["phase"] for r in p.runs
                        if "@full" in r.label and r.latency is not None]
                print(f"\nuploads: PUT of the 12 MP photo median {fs(pct(put, 50))}; changes at "
                      f"full resolution median {fs(pct(full, 50))}, p95 {fs(pct(full, 95))} "
                      f"(target {FULL_RES_TARGET:g} s, browser included); memory before "
                      f"{gb(s.get('mem_before'))}, peak {gb(s.get('mem_peak'))}, right after "
                      f"{gb(s.get('mem_right_after'))}, {args.idle_after:.0f} s later "
                      f"{gb(s.get('mem_after_idle'))}")
            if s["phase"].startswith("tabs"):
                before, after = s.get("mem_before", 0), s.get("mem_after_idle")
                growth = None if after is None else after - before
                limit = IDLE_TOLERANCE * idle
                verdict = "" if growth is None else ("ok" if growth <= limit else "GROWTH")
                print(f"\ntabs: photo shown in {s.get('shown')}; memory before {gb(before)}, "
                      f"peak {gb(s.get('mem_peak'))}, right after the last closed "
                      f"{gb(s.get('mem_right_after'))}, {args.idle_after:.0f} s later "
                      f"{gb(after)}: growth {gb(growth) if growth is not None else '-'} "
                      f"(target: noise, <= {gb(limit)}) {verdict}")
    report["phases"] = rows
    report["runs"] = [asdict(r) for p in phases for r in p.runs]
    path = args.json or OUT / f"classroom-{time.strftime('%Y%m%d-%H%M%S')}.json"
    Path(path).write_text(json.dumps(report, indent=1, default=str))
    print(f"\nresults: {path}")
    return 0


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", default=DEFAULT_SERVE,
                    help="command serving the app; {port} is replaced (default: %(default)s)")
    ap.add_argument("--floor-serve", default=DEFAULT_FLOOR, help="the same for the floor app")
    ap.add_argument("--students", default="1,10,30,60",
                    help="class sizes, one phase each (default: %(default)s)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    ap.add_argument("--idle-after", type=float, default=180.0,
                    help="seconds after everyone left before reading the memory "
                         "(server.disconnectedSessionTTL is 120 s by default)")
    ap.add_argument("--uploads", type=int, default=5, help="students uploading a 12 MP photo")
    ap.add_argument("--tabs", type=int, default=20, help="tabs that upload a photo and close")
    ap.add_argument("--skip", default="", help="comma-separated: floor, uploads, tabs, idle")
    ap.add_argument("--budget-gb", type=float, default=1.0, help="memory budget per replica")
    ap.add_argument("--replicas", type=int, default=0,
                    help="replicas behind the serve command (default: counted)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds without script_finished before a rerun counts as timed out")
    ap.add_argument("--profile", type=int, default=12,
                    help="changes per page for the profile (one student, back to back, "
                         "server CPU per kind of change); 0: none")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cold-numba", action="store_true",
                    help="serve with an empty numba cache (NUMBA_CACHE_DIR in a new temporary "
                         "directory): the first visit then compiles, as on a fresh deployment")
    ap.add_argument("--json", default=None, help="where to write the results")
    ap.add_argument("--quick", action="store_true",
                    help="N = 1, 5 for 20 s, 2 uploads, 3 tabs, 15 s idle wait")
    args = ap.parse_args(argv)
    if args.quick:
        args.students, args.duration, args.uploads, args.tabs = "1,5", 20.0, 2, 3
        args.profile = min(args.profile, 3)
        args.idle_after = 15.0
    args.students = [int(n) for n in str(args.students).split(",") if n.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C or SIGTERM cancels the run; the finally of main_async stops the servers
    try:
        return asyncio.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
