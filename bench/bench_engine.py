"""Engine benchmark: conv2d / pool2d / activate on a 12-megapixel photo against reference libraries.

    python bench/bench_engine.py            # every case (about a minute on 2 cores)
    python bench/bench_engine.py --quick    # fewer repetitions

Every figure is printed next to its target, and the references are timed in the same run:
OpenCV ``filter2D`` and PyTorch ``conv2d`` (channels-last, its fast path) if installed (they are
not dependencies of the app), and ``scipy.ndimage.correlate`` per channel. Medians of interleaved
rounds after a warm-up; 2 threads for every library. The machine is noisy: compare ratios.

Targets (issue 2): 3x3 to 7x7 kernels, 1 to 8 filters, 1 to 3 channels: within 1.5x of the
fastest reference and >= 5x faster than scipy.ndimage per channel; pooling 2x2/2 on 8 channels
within 1.5x of PyTorch max_pool2d; peak extra memory < 2x the output; conv (8 filters) + ReLU +
max-pool of a 12 MP photo < 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conv import ops  # noqa: E402

THREADS = 2
H, W = 3000, 4000  # 12 MP

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
except ImportError:
    torch = None
try:
    import cv2

    cv2.setNumThreads(THREADS)
except ImportError:
    cv2 = None


def photo() -> np.ndarray:
    """A smooth 12 MP RGB 'photo' with noise, float32 (3, H, W) in 0..255."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    chans = [127 + 90 * np.sin(xx / (40 + 9 * c) + c) * np.cos(yy / 70) for c in range(3)]
    x = np.stack(chans) + rng.normal(0, 8, (3, H, W)).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.float32)


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def gaussian(size: int) -> np.ndarray:
    sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    g = np.exp(-((np.arange(size) - size // 2) ** 2) / (2 * sigma**2))
    return np.outer(g, g) / g.sum() ** 2


def cases(rng):
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    return [
        # name, input channels, weight, groups, stride, in 3x3-7x7 target?
        ("A  3x3x3 -> 1", 3, rng.normal(size=(1, 3, 3, 3)), 1, 1, True),
        ("B  3x3x3 -> 8", 3, rng.normal(size=(8, 3, 3, 3)), 1, 1, True),
        ("C  Sobel on R, G, B", 3, np.repeat(sobel[None, None], 3, 0), 3, 1, True),
        ("D3 3x3 gray", 1, rng.normal(size=(1, 1, 3, 3)), 1, 1, True),
        ("D5 5x5x3 -> 1", 3, rng.normal(size=(1, 3, 5, 5)), 1, 1, True),
        ("D7 7x7 gray", 1, rng.normal(size=(1, 1, 7, 7)), 1, 1, True),
        ("B7 7x7x3 -> 8", 3, rng.normal(size=(8, 3, 7, 7)), 1, 1, True),
        ("E1 3x3x3 -> 1, stride 2", 3, rng.normal(size=(1, 3, 3, 3)), 1, 2, True),
        ("E8 3x3x3 -> 8, stride 2", 3, rng.normal(size=(8, 3, 3, 3)), 1, 2, True),
        ("S15 Gaussian 15x15 gray", 1, gaussian(15)[None, None], 1, 1, False),
        ("S31 Gaussian 31x31 gray", 1, gaussian(31)[None, None], 1, 1, False),
        ("L15 15x15 gray", 1, rng.normal(size=(1, 1, 15, 15)), 1, 1, False),
        ("L31 31x31 gray", 1, rng.normal(size=(1, 1, 31, 31)), 1, 1, False),
    ]


def refs_for(x_chw, x_hwc, weight, groups, stride):
    """The reference implementations of one case: name -> callable."""
    weight = weight.astype(np.float32)
    c_out, cpg, kh, kw = weight.shape
    opg = c_out // groups
    pad = (kh // 2, kw // 2)
    refs = {}
    if torch is not None:
        c = x_hwc.shape[2]
        xt = torch.from_numpy(x_hwc).reshape(1, H, W, c).permute(0, 3, 1, 2)  # channels-last
        wt = torch.from_numpy(weight)
        refs["torch"] = lambda: F.conv2d(xt, wt, stride=stride, padding=pad, groups=groups)
    if cv2 is not None:
        def opencv():
            out = []
            for o in range(c_out):
                g = o // opg
                acc = None
                for ci in range(cpg):
                    r = cv2.filter2D(x_chw[g * cpg + ci], -1, weight[o, ci],
                                     borderType=cv2.BORDER_CONSTANT)
                    acc = r if acc is None else acc + r
                out.append(acc[::stride, ::stride])
            return out
        refs["opencv"] = opencv

    def ndimage():
        out = []
        for o in range(c_out):
            g = o // opg
            acc = sum(ndi.correlate(x_chw[g * cpg + ci], weight[o, ci], mode="constant")
                      for ci in range(cpg))
            out.append(acc[::stride, ::stride])
        return out
    refs["ndimage"] = ndimage
    return refs


def peak_extra_mb(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh process; return (peak RSS growth during the call, output MB)."""
    script = f"""
import sys, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from conv import ops
rng = np.random.default_rng(0)
x = rng.random((3, {H}, {W}), dtype=np.float32) * 255
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
out = RUN_WARM
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # reset the peak-RSS counter
base = rss('VmRSS')
out = RUN_CALL
print(rss('VmHWM') - base, out.nbytes / 2**20)
"""
    # warm-up first, on an image large enough to take every path (the parallel finite check
    # starts at 1M values), so that loading the compiled code is not counted
    script = script.replace("RUN_WARM", code.replace("RUN", "x[:, :640, :640]")).replace(
        "RUN_CALL", code.replace("RUN", "x"))
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    peak, out = map(float, res.stdout.split())
    return peak, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 5")
    args = parser.parse_args()
    rounds = 3 if args.quick else 5
    print(f"bench_engine: {H}x{W} (12 MP) float32, {THREADS} threads, median of {rounds} rounds "
          f"(ndimage: 1 round); {os.cpu_count()} CPUs")
    print("references: " + ", ".join(
        [f"PyTorch {torch.__version__} (channels-last)" if torch else "PyTorch not installed",
         f"OpenCV {cv2.__version__}" if cv2 else "OpenCV not installed",
         "scipy.ndimage (always)"]))
    rng = np.random.default_rng(1)
    x3 = photo()
    x1 = np.ascontiguousarray(ops.activate(
        np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), x3, 1)[None], "identity"))
    hwc3 = np.ascontiguousarray(x3.transpose(1, 2, 0))
    hwc1 = np.ascontiguousarray(x1.transpose(1, 2, 0))
    ops.conv2d(x3[:, :64, :64], np.ones((1, 3, 3, 3)))  # compile / load the jit cache

    header = (f"{'case':<26}{'ours ms':>9} {'method':<10}{'fastest ref':>16}{'ratio':>7}"
              f"{'target':>8}{'ndimage':>9}{'x faster':>9}  verdict")
    print()
    print(header)
    print("-" * len(header))
    failures = []
    for name, c_in, weight, groups, stride, small in cases(rng):
        x, hwc = (x3, hwc3) if c_in == 3 else (x1, hwc1)
        weight = weight.astype(np.float32)
        pad = (weight.shape[2] // 2, weight.shape[3] // 2)
        ours = lambda: ops.conv2d(x, weight, stride=stride, padding=pad, groups=groups)  # noqa: E731
        refs = refs_for(x, hwc, weight, groups, stride)
        nd = refs.pop("ndimage")
        ours()
        for r in refs.values():
            r()
        times = {"ours": [], **{k: [] for k in refs}}
        for _ in range(rounds):  # interleaved rounds
            times["ours"].append(timed(ours, 1))
            for k, r in refs.items():
                times[k].append(timed(r, 1))
        med = {k: statistics.median(v) for k, v in times.items()}
        t_nd = timed(nd, 1)
        method = ops.choose_method(weight, in_hw=(H, W), stride=stride, padding=pad, groups=groups)
        best = min(refs, key=med.get) if refs else None
        ratio = med["ours"] / med[best] if best else float("nan")
        speedup = t_nd / med["ours"]
        verdict = []
        if small:
            verdict.append("ok" if ratio <= 1.5 else "SLOWER than 1.5x ref")
            verdict.append("ok" if speedup >= 5 else "< 5x ndimage")
            target = "<=1.5x"
        else:
            verdict.append(f"{'ok' if ratio <= 1.5 else 'slower'} (no target)")
            target = "-"
        if any(v.startswith(("SLOWER", "<")) for v in verdict):
            failures.append(name)
        ref_txt = f"{med[best]:.0f} {best}" if best else "n/a"
        print(f"{name:<26}{med['ours']:>9.0f} {method:<10}{ref_txt:>16}{ratio:>7.2f}{target:>8}"
              f"{t_nd:>9.0f}{speedup:>9.1f}  {', '.join(verdict)}")

    # Pooling and activation on the 8-channel output of case B
    m8 = np.ascontiguousarray(ops.conv2d(x3, rng.normal(size=(8, 3, 3, 3)), padding=1))
    print()
    print(f"{'pooling on 12 MP x 8':<26}{'ours ms':>9}{'torch ms':>10}{'ratio':>7}{'target':>8}  verdict")
    pool_cases = [("max 2x2/2", dict(kernel_size=2, mode="max"), "max"),
                  ("avg 3x3/2", dict(kernel_size=3, stride=2, mode="avg"), "avg")]
    t8 = None
    if torch is not None:
        t8 = torch.from_numpy(np.ascontiguousarray(m8.transpose(1, 2, 0))).reshape(1, H, W, 8).permute(0, 3, 1, 2)
    for name, kw, kind in pool_cases:
        ours = lambda: ops.pool2d(m8, **kw)  # noqa: E731
        ours()
        t_ours = timed(ours, rounds)
        if t8 is not None:
            ref = (lambda: F.max_pool2d(t8, 2)) if kind == "max" else (lambda: F.avg_pool2d(t8, 3, 2))
            ref()
            t_ref = timed(ref, rounds)
            ratio = t_ours / t_ref
            verdict = ("ok" if ratio <= 1.5 else "SLOWER than 1.5x torch") if kind == "max" else "(no target)"
            if verdict.startswith("SLOWER"):
                failures.append(name)
            print(f"{name:<26}{t_ours:>9.0f}{t_ref:>10.0f}{ratio:>7.2f}{'<=1.5x' if kind == 'max' else '-':>8}  {verdict}")
        else:
            print(f"{name:<26}{t_ours:>9.0f}{'n/a':>10}")

    w8 = rng.normal(size=(8, 3, 3, 3)).astype(np.float32)

    def pipeline():
        y = ops.conv2d(x3, w8, padding=1)
        y = ops.activate(y, "relu")
        return ops.pool2d(y, 2)

    pipeline()
    t_pipe = timed(pipeline, rounds)
    ok = t_pipe < 1000
    if not ok:
        failures.append("pipeline")
    print()
    print(f"12 MP photo -> conv 3x3x3 x 8 -> ReLU -> max-pool 2x2: {t_pipe:.0f} ms "
          f"(target < 1000 ms): {'ok' if ok else 'SLOWER'}")

    print()
    print(f"{'peak extra memory':<40}{'extra MB':>10}{'output MB':>11}{'ratio':>7}  target < 2x output")
    for name, code in [
        ("3x3x3 -> 8, direct", "ops.conv2d(RUN, rng.normal(size=(8, 3, 3, 3)), padding=1)"),
        ("Gaussian 15x15 on R, G, B, separable",
         "ops.conv2d(RUN, np.ones((3, 1, 15, 15)) / 225, padding=7, groups=3)"),
        ("31x31x3 -> 1, fft", "ops.conv2d(RUN, rng.normal(size=(1, 3, 31, 31)), padding=15)"),
        ("max-pool 2x2 of 3 channels", "ops.pool2d(RUN, 2)"),
    ]:
        extra, out_mb = peak_extra_mb(code)
        ratio = extra / out_mb
        if ratio >= 2:
            failures.append(name)
        print(f"{name:<40}{extra:>10.0f}{out_mb:>11.0f}{ratio:>7.2f}  {'ok' if ratio < 2 else 'OVER'}")

    print()
    print("all targets met" if not failures else "targets missed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
