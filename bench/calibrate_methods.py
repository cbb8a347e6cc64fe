"""Measure each conv2d method on a grid of cases and fit the cost model's constants in conv/ops.py.

    python bench/calibrate_methods.py

Prints, per case, each method's median time and the method the current cost model picks, then
least-squares fits of the per-tap / per-group / per-plane (direct, separable) and per-FFT /
per-product (fft) constants in milliseconds per 12 MP output plane. Run it on a quiet machine.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conv import ops  # noqa: E402

H, W = 1500, 2000  # 3 MP: 4x faster to run; times are scaled to 12 MP
SCALE = 4.0


def timed(fn, rounds=3):
    fn()
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1000 * statistics.median(ts) * SCALE


def features(method, w, stride=(1, 1)):
    c_out, cpg, kh, kw = w.shape
    if method == "direct":
        nnz = [np.count_nonzero(w[o, c]) for o in range(c_out) for c in range(cpg)]
        return [sum(nnz), sum(-(-n // 4) for n in nnz), c_out]
    if method == "separable":
        f = ops._factorise(w.astype(np.float32))
        taps = groups = 0
        planes = c_out
        for row in f:
            for fc in row:
                if fc is None:
                    continue
                col, r = fc
                nr, nc = np.count_nonzero(r), np.count_nonzero(col)
                taps += stride[0] * nr + nc
                groups += stride[0] * -(-nr // 4) + -(-nc // 4)
                planes += stride[0]
        return [taps, groups, planes]
    return [c_out + cpg, c_out * cpg]  # fft: transforms, spectrum products


def main():
    rng = np.random.default_rng(0)
    x = rng.random((3, H, W), dtype=np.float32) * 255
    g = lambda n: np.outer(np.hanning(n + 2)[1:-1], np.hanning(n + 2)[1:-1])  # noqa: E731
    cases = [((o, c, k, k), sep) for o, c in ((1, 1), (1, 3), (3, 3), (8, 3)) for k in (3, 5, 7, 9, 11, 15, 21)
             for sep in (False, True)]
    rows = {m: [] for m in ops.METHODS}
    for (o, c, kh, kw), sep in cases:
        if sep:
            w = np.stack([np.stack([g(kh) * (1 + i + j) for j in range(c)]) for i in range(o)])
        else:
            w = rng.normal(size=(o, c, kh, kw))
        w = w.astype(np.float32)
        xx = x[:c]
        res = {}
        for m in ops.METHODS:
            if m == "separable" and not sep:
                continue
            if m == "direct" and kh > 15 and o * c > 3:
                continue
            t = timed(lambda: ops.conv2d_using(m, xx, w, padding=kh // 2))
            res[m] = t
            rows[m].append((features(m, w), t))
        best = min(res, key=res.get)
        chosen = ops.choose_method(w, in_hw=(H, W), padding=kh // 2)
        flag = "" if chosen == best or res[chosen] <= 1.15 * res[best] else "  <-- model picks slower"
        print(f"{o}x{c}x{kh}x{kw} {'sep ' if sep else 'full'} " + " ".join(
            f"{m}={v:.0f}" for m, v in res.items()) + f"  best={best} model={chosen}{flag}", flush=True)
    for m, data in rows.items():
        a = np.array([f for f, _ in data], float)
        y = np.array([t for _, t in data])
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        print(m, "ms per (tap, group, plane)" if m != "fft" else "ms per (transform, product)",
              np.round(coef, 3))


if __name__ == "__main__":
    main()
