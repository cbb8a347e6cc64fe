"""The convolution family's benchmark: transposed convolution, conv1d, conv2d_grad and im2col,
each against a reference timed in the same run.

    python bench/bench_family.py            # every case (a few minutes on 2 busy cores)
    python bench/bench_family.py --quick    # fewer rounds

Medians of interleaved rounds after a warm-up (ours, then each reference, round after round;
twice as many for the transposed cases, which take a few ms): the machine is shared and noisy,
so compare the ratios, not the milliseconds.

Targets:

- transposed convolution at 1 MP within 2x of ``conv2d`` producing the same output size (issue
  "The whole convolution family"): a 512x512 map upsampled by stride 2 to 1024x1024 against
  conv2d of a 1024x1024 map with the same kernel and "same" padding. Also shown, without a
  target: zero insertion + conv2d (the textbook method, ``s*s`` times the work);
- conv1d within 1.5x of conv2d on the same samples laid out as rows (ours: the 1-D operations
  run through the 2-D loop with H = 1 and must not lose its speed);
- conv2d_grad within 3x of the forward conv2d of the same input and weights at stride 1 (ours:
  the backward is two passes of about that cost, grad_x filling the whole input even when the
  layer's stride skips most of it); and, without a target, grad_weight by the compiled loop
  against the swapped correlation through the FFT, for the crossover in conv/family.py;
- peak extra memory of a transposed convolution to a 12 MP output under 2x its output.
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
from conv import family, ops  # noqa: E402
from conv.geometry import transposed_out_size  # noqa: E402

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
except ImportError:
    torch = None


def interleaved(fns: dict, rounds: int) -> dict[str, float]:
    """Median milliseconds of each callable, timed round after round in turn (one warm-up)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def zero_insertion(x, weight, stride, padding, output_padding):
    """The textbook transposed convolution: ``stride - 1`` zeros between input pixels, then
    conv2d with the flipped kernel, its channel axes swapped (groups = 1)."""
    c, h, w = x.shape
    k = weight.shape[2]
    up = np.zeros((c, (h - 1) * stride + 1, (w - 1) * stride + 1), np.float32)
    up[:, ::stride, ::stride] = x
    q = k - 1 - padding
    pads = ((q, q + output_padding), (q, q + output_padding))
    return ops.conv2d(up, weight.swapaxes(0, 1)[:, :, ::-1, ::-1], padding=pads)


def peak_extra_mb(code: str) -> tuple[float, float]:
    """Run ``code`` (``out = ...``) in a fresh process: (peak RSS growth, output MB)."""
    script = f"""
import sys, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from conv import family
rng = np.random.default_rng(0)
x = rng.random((3, 1500, 2000), dtype=np.float32)
w = rng.normal(size=(3, 3, 4, 4)).astype(np.float32)
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
out = {code.replace("X", "x[:, :300, :300]")}
del out
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
base = rss('VmRSS')
out = {code.replace("X", "x")}
print(rss('VmHWM') - base, out.nbytes / 2**20)
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    peak, out = map(float, res.stdout.split())
    return peak, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 9")
    args = parser.parse_args()
    rounds = 5 if args.quick else 9
    print(f"bench_family: float32, median of {rounds} interleaved rounds; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    print("references: our conv2d (always), scipy.ndimage.correlate1d (conv1d), "
          + (f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"))
    rng = np.random.default_rng(0)
    failures = []
    ops.conv2d(np.ones((1, 64, 64), np.float32), np.ones((1, 1, 3, 3)))  # load the jit

    # ---------------------------------------------------------------------------------------
    print()
    print("transposed convolution, 1 MP output: 512x512 -> 1024x1024 (stride 2) or 256x256 -> "
          "1024x1024 (stride 4)")
    header = (f"{'case':<34}{'ours ms':>9}{'conv2d':>9}{'ratio':>7}{'target':>8}"
              f"{'zero-ins':>10}{'torch':>8}  verdict")
    print(header)
    print("-" * len(header))
    for name, c_in, c_out, k, s, p, op in [
        ("1 -> 1, 4x4, s2, p1", 1, 1, 4, 2, 1, 0),
        ("1 -> 1, 3x3, s2, p1, op1", 1, 1, 3, 2, 1, 1),
        ("3 -> 3, 3x3, s2, p1, op1", 3, 3, 3, 2, 1, 1),
        ("3 -> 3, 4x4, s2, p1", 3, 3, 4, 2, 1, 0),
        ("8 -> 3, 4x4, s2, p1", 8, 3, 4, 2, 1, 0),
        ("16 -> 8, 3x3, s2, p1, op1", 16, 8, 3, 2, 1, 1),
        ("3 -> 3, 8x8, s4, p2", 3, 3, 8, 4, 2, 0),
    ]:
        n = 1024 // s
        assert transposed_out_size(n, k, s, p, p, 1, op) == 1024
        x = rng.random((c_in, n, n), dtype=np.float32) * 255
        wt = rng.normal(size=(c_in, c_out, k, k)).astype(np.float32)
        big = rng.random((c_in, 1024, 1024), dtype=np.float32) * 255
        wc = rng.normal(size=(c_out, c_in, k, k)).astype(np.float32)
        fns = {
            "ours": lambda: family.conv_transpose2d(x, wt, stride=s, padding=p, output_padding=op),
            "conv2d": lambda: ops.conv2d(big, wc, padding="same"),
            "zero": lambda: zero_insertion(x, wt, s, p, op),
        }
        if torch is not None:
            xt, wtt = torch.from_numpy(x[None]), torch.from_numpy(wt)
            fns["torch"] = lambda: F.conv_transpose2d(xt, wtt, stride=s, padding=p,
                                                      output_padding=op)
        got = fns["ours"]()
        np.testing.assert_allclose(got, fns["zero"](), rtol=1e-4,
                                   atol=1e-4 * np.abs(got).max())
        med = interleaved(fns, 2 * rounds)  # a few ms each: twice the rounds, less noise
        ratio = med["ours"] / med["conv2d"]
        ok = ratio <= 2
        if not ok:
            failures.append(f"transposed {name}")
        t_torch = f"{med['torch']:.0f}" if "torch" in med else "n/a"
        print(f"{name:<34}{med['ours']:>9.1f}{med['conv2d']:>9.1f}{ratio:>7.2f}{'<=2x':>8}"
              f"{med['zero']:>10.1f}{t_torch:>8}  {'ok' if ok else 'SLOWER than 2x conv2d'}")

    # ---------------------------------------------------------------------------------------
    print()
    print("conv1d, 1M samples per channel, against conv2d on the same samples as 1000 rows of 1000")
    header = (f"{'case':<34}{'ours ms':>9}{'conv2d':>9}{'ratio':>7}{'target':>8}"
              f"{'ndimage':>10}  verdict")
    print(header)
    print("-" * len(header))
    for name, c_in, c_out, k, s, pad in [
        ("1 -> 1, k9, causal", 1, 1, 9, 1, "causal"),
        ("8 -> 8, k9, same", 8, 8, 9, 1, "same"),
        ("8 -> 8, k9, stride 2", 8, 8, 9, 2, 4),
    ]:
        sig = rng.normal(size=(c_in, 1_000_000)).astype(np.float32)
        w1 = rng.normal(size=(c_out, c_in, k)).astype(np.float32)
        rows = sig.reshape(c_in, 1000, 1000)
        w2 = w1[:, :, None]
        pad2 = (0, k // 2) if pad != "causal" else ((0, 0), (k - 1, 0))

        def nd():
            out = []
            for o in range(c_out):
                acc = sum(ndi.correlate1d(sig[c], w1[o, c], mode="constant") for c in range(c_in))
                out.append(acc[::s])
            return out

        fns = {"ours": lambda: family.conv1d(sig, w1, stride=s, padding=pad),
               "conv2d": lambda: ops.conv2d(rows, w2, stride=(1, s), padding=pad2),
               "ndimage": nd}
        med = interleaved(fns, rounds)
        ratio = med["ours"] / med["conv2d"]
        ok = ratio <= 1.5
        if not ok:
            failures.append(f"conv1d {name}")
        print(f"{name:<34}{med['ours']:>9.1f}{med['conv2d']:>9.1f}{ratio:>7.2f}{'<=1.5x':>8}"
              f"{med['ndimage']:>10.1f}  {'ok' if ok else 'SLOWER than 1.5x conv2d'}")

    # ---------------------------------------------------------------------------------------
    print()
    print("conv2d_grad at 1 MP against the forward conv2d of the same input and weights at "
          "stride 1")
    header = (f"{'case':<34}{'ours ms':>9}{'forward':>9}{'ratio':>7}{'target':>8}"
              f"{'torch':>10}  verdict")
    print(header)
    print("-" * len(header))
    for name, c_in, c_out, k, s, g in [
        ("3 -> 8, 3x3, p1", 3, 8, 3, 1, 1),
        ("8 -> 8, 3x3, p1", 8, 8, 3, 1, 1),
        ("8 -> 8, 3x3, p1, stride 2", 8, 8, 3, 2, 1),
        ("8 -> 8 depthwise, 5x5, p2", 8, 8, 5, 1, 8),
    ]:
        x = rng.random((c_in, 1024, 1024), dtype=np.float32)
        w = rng.normal(size=(c_out, c_in // g, k, k)).astype(np.float32)
        kw = dict(stride=s, padding=k // 2, groups=g)
        go = rng.normal(size=ops.conv2d(x, w, **kw).shape).astype(np.float32)
        # the forward at stride 1: a full-size pass over the input, as the gradients are
        # (grad_x fills all of x; at stride s the layer's own forward computes s*s fewer outputs)
        fns = {"ours": lambda: family.conv2d_grad(x, w, go, **kw),
               "forward": lambda: ops.conv2d(x, w, padding=k // 2, groups=g)}
        if torch is not None:
            xt = torch.from_numpy(x[None]).requires_grad_()
            wtt = torch.from_numpy(w).requires_grad_()
            got = torch.from_numpy(go[None])

            def torch_grad():
                xt.grad = wtt.grad = None
                F.conv2d(xt, wtt, stride=s, padding=k // 2, groups=g).backward(got)
            fns["torch"] = torch_grad
        med = interleaved(fns, rounds)
        ratio = med["ours"] / med["forward"]
        ok = ratio <= 3
        if not ok:
            failures.append(f"conv2d_grad {name}")
        t_torch = f"{med['torch']:.0f}" if "torch" in med else "n/a"
        print(f"{name:<34}{med['ours']:>9.1f}{med['forward']:>9.1f}{ratio:>7.2f}{'<=3x':>8}"
              f"{t_torch:>10}  {'ok' if ok else 'SLOWER than 3x forward'}")

    print()
    print(f"grad_weight, 3 -> 3 at 1 MP: the compiled loop vs the swapped correlation by FFT "
          f"(conv/family.py takes the FFT above {family._GRAD_FFT_TAPS} taps)")
    print(f"{'kernel':<12}{'loop ms':>9}{'fft ms':>9}  faster")
    x = rng.random((3, 1024, 1024), dtype=np.float32)
    for k in (5, 9, 11, 13, 17, 25):
        layer = ops.check_conv_args(x.shape, (3, 3, k, k), padding=k // 2)
        go = rng.normal(size=(3, *layer.out_shape)).astype(np.float32)
        fns = {"loop": lambda: family._grad_weight_jit(x, go, layer, 1, (k, k)),
               "fft": lambda: family._grad_weight_fft(x, go, layer, 1, (k, k))}
        med = interleaved(fns, max(3, rounds // 2))
        print(f"{f'{k}x{k}':<12}{med['loop']:>9.1f}{med['fft']:>9.1f}  {min(med, key=med.get)}")

    # ---------------------------------------------------------------------------------------
    print()
    print("im2col, 3 channels, 3x3, p1, 1 MP (no target; PyTorch's unfold for comparison)")
    x = rng.random((3, 1024, 1024), dtype=np.float32)
    fns = {"ours": lambda: family.im2col(x, 3, padding=1),
           "numpy": lambda: np.lib.stride_tricks.sliding_window_view(
               np.pad(x, ((0, 0), (1, 1), (1, 1))), (3, 3), axis=(1, 2))
           .transpose(0, 3, 4, 1, 2).reshape(27, -1)}
    if torch is not None:
        xt = torch.from_numpy(x[None])
        fns["torch"] = lambda: F.unfold(xt, 3, padding=1)
    med = interleaved(fns, rounds)
    print("  ".join(f"{k} {v:.1f} ms" for k, v in med.items()))

    # ---------------------------------------------------------------------------------------
    print()
    print(f"{'peak extra memory':<44}{'extra MB':>10}{'output MB':>11}{'ratio':>7}"
          f"  target < 2x output")
    for name, code in [
        ("transposed 3 -> 3, 4x4, s2: 1500x2000 -> 12 MP",
         "family.conv_transpose2d(X, w, stride=2, padding=1)"),
    ]:
        extra, out_mb = peak_extra_mb(code)
        ratio = extra / out_mb
        if ratio >= 2:
            failures.append(name)
        print(f"{name:<44}{extra:>10.0f}{out_mb:>11.0f}{ratio:>7.2f}"
              f"  {'ok' if ratio < 2 else 'OVER'}")

    print()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("all targets met" if not failures else "targets missed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
