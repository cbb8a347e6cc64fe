"""The compiled inner loop of the convolution (numba).

Why numba: on this kind of machine (2 cores) numpy's shifted-slice and im2col methods stay 2-4x
behind PyTorch and OpenCV for 3x3 to 7x7 kernels (two passes over memory per tap); this loop
keeps each output row's accumulator in L1 and fuses up to four taps per pass, and reaches or
beats them (bench/bench_engine.py prints the figures). Compiled once, cached on disk.
"""

import numpy as np
from numba import njit, prange


@njit(inline="always", fastmath=True, boundscheck=False)
def _taps(a, wv, srcs, sel, offs, nt, lo, hi, first):
    """``a[j] += sum_t wv[t] * srcs[sel[t], j + offs[t]]`` for ``lo <= j < hi``, fused by four
    (``=`` instead of ``+=`` for the first group when ``first``: no zeroing pass needed).

    Every tap reads a contiguous run of one row of ``srcs``: at stride 1 the input plane's row,
    otherwise one of the row's ``stride`` deinterleaved phases. Four taps (from any kernel rows)
    share one load and store of the accumulator. Slices are indexed by the bare loop variable
    (never ``a[lo + j]``): numba then drops its negative-index check, which would stop LLVM from
    vectorising the loop.
    """
    t = 0
    a2 = a[lo:hi]
    while t < nt:
        m = min(4, nt - t)
        s0 = srcs[sel[t], lo + offs[t]: hi + offs[t]]
        w0 = wv[t]
        if m == 4:
            s1 = srcs[sel[t + 1], lo + offs[t + 1]: hi + offs[t + 1]]
            s2 = srcs[sel[t + 2], lo + offs[t + 2]: hi + offs[t + 2]]
            s3 = srcs[sel[t + 3], lo + offs[t + 3]: hi + offs[t + 3]]
            w1, w2, w3 = wv[t + 1], wv[t + 2], wv[t + 3]
            if first:
                for j in range(hi - lo):
                    a2[j] = w0 * s0[j] + w1 * s1[j] + w2 * s2[j] + w3 * s3[j]
            else:
                for j in range(hi - lo):
                    a2[j] += w0 * s0[j] + w1 * s1[j] + w2 * s2[j] + w3 * s3[j]
        elif m == 3:
            s1 = srcs[sel[t + 1], lo + offs[t + 1]: hi + offs[t + 1]]
            s2 = srcs[sel[t + 2], lo + offs[t + 2]: hi + offs[t + 2]]
            w1, w2 = wv[t + 1], wv[t + 2]
            if first:
                for j in range(hi - lo):
                    a2[j] = w0 * s0[j] + w1 * s1[j] + w2 * s2[j]
            else:
                for j in range(hi - lo):
                    a2[j] += w0 * s0[j] + w1 * s1[j] + w2 * s2[j]
        elif m == 2:
            s1 = srcs[sel[t + 1], lo + offs[t + 1]: hi + offs[t + 1]]
            w1 = wv[t + 1]
            if first:
                for j in range(hi - lo):
                    a2[j] = w0 * s0[j] + w1 * s1[j]
            else:
                for j in range(hi - lo):
                    a2[j] += w0 * s0[j] + w1 * s1[j]
        else:
            if first:
                for j in range(hi - lo):
                    a2[j] = w0 * s0[j]
            else:
                for j in range(hi - lo):
                    a2[j] += w0 * s0[j]
        first = False
        t += m


@njit(parallel=True, fastmath=True, cache=True, boundscheck=False)
def conv_rows(x, w, out, row_map, col_map, sh, sw, dh, dw, left, groups, chunk, r_begin, r_end,
              band):
    """Cross-correlate ``x`` (C_in, H, W) with ``w`` (C_out, C_in/groups, kH, kW) into ``out``.

    ``row_map[p]`` / ``col_map[p]`` give the input row / column that padded row / column ``p``
    reads (-1: a zero), so no padded copy of the image is made. Tasks are (``band`` output rows,
    ``chunk`` columns); each output row's chunk is summed in place, in the L1 cache. Only the
    outputs that the stride keeps are computed, and only output rows ``[r_begin, r_end)``.
    """
    c_out, h_out, w_out = out.shape
    cpg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    width = x.shape[2]
    opg = c_out // groups
    if sw > 1:
        chunk = w_out  # whole rows: each input row is deinterleaved once per output row
    n_chunks = (w_out + chunk - 1) // chunk
    n_bands = (r_end - r_begin + band - 1) // band
    n_phase = (width + sw - 1) // sw
    # Output columns whose every tap lies inside the image: j*sw - left >= 0 and
    # j*sw + (kw-1)*dw - left <= width - 1. The others read the padding through col_map.
    lo_all = (left + sw - 1) // sw
    last = width - 1 - ((kw - 1) * dw - left)
    hi_all = last // sw + 1 if last >= 0 else 0
    for task in prange(n_bands * n_chunks):
        b0 = r_begin + (task // n_chunks) * band
        b1 = min(b0 + band, r_end)
        j0 = (task % n_chunks) * chunk
        j1 = min(j0 + chunk, w_out)
        n = j1 - j0
        lo = min(max(lo_all, j0), j1) - j0
        hi = max(min(hi_all, j1) - j0, lo)
        wv = np.empty(kh * kw, np.float32)
        offs = np.empty(kh * kw, np.int64)
        sel = np.empty(kh * kw, np.int64)
        phases = np.zeros((kh * sw if sw > 1 else 1, n_phase if sw > 1 else 1), np.float32)
        fresh = np.empty(c_out, np.bool_)  # the row's interior not written yet
        for r in range(b0, b1):
            for o in range(c_out):
                fresh[o] = True
                out[o, r, j0:j0 + lo] = 0.0  # border columns (read through col_map) sum in place
                out[o, r, j0 + hi:j1] = 0.0
            for g in range(groups):
                for ci in range(cpg):
                    c = g * cpg + ci
                    plane = x[c]
                    if sw > 1:
                        # phases[ky*sw + p, m] = row[p + m*sw]: column j*sw + off of that row
                        # is phases[ky*sw + off % sw, j + off // sw], a contiguous run in j
                        for ky in range(kh):
                            ri = row_map[r * sh + ky * dh]
                            if ri >= 0:
                                src = plane[ri]
                                for p in range(sw):
                                    ph = phases[ky * sw + p]
                                    for m in range((width - p + sw - 1) // sw):
                                        ph[m] = src[p + m * sw]
                        srcs = phases
                    else:
                        srcs = plane
                    for o in range(g * opg, (g + 1) * opg):
                        a = out[o, r, j0:j1]
                        nt = 0
                        for ky in range(kh):
                            ri = row_map[r * sh + ky * dh]
                            if ri < 0:
                                continue
                            src = plane[ri]
                            for kx in range(kw):
                                v = w[o, ci, ky, kx]
                                if v == 0.0:
                                    continue
                                off = kx * dw - left + j0 * sw  # column = j*sw + off, j local
                                wv[nt] = v
                                if sw > 1:
                                    sel[nt] = ky * sw + off % sw
                                    offs[nt] = off // sw
                                else:
                                    sel[nt] = ri
                                    offs[nt] = off
                                nt += 1
                                for j in range(lo):
                                    cc = col_map[(j0 + j) * sw + kx * dw]
                                    if cc >= 0:
                                        a[j] += v * src[cc]
                                for j in range(hi, n):
                                    cc = col_map[(j0 + j) * sw + kx * dw]
                                    if cc >= 0:
                                        a[j] += v * src[cc]
                        if nt > 0 and hi > lo:
                            _taps(a, wv, srcs, sel, offs, nt, lo, hi, fresh[o])
                            fresh[o] = False
            for o in range(c_out):
                if fresh[o]:  # no tap reached the interior (all-zero weights, padding rows)
                    out[o, r, j0 + lo:j0 + hi] = 0.0


@njit(parallel=True, cache=True, boundscheck=False)
def count_nonfinite(a):
    """How many entries of the 2-D float32 array ``a`` are NaN or infinite, on every core.

    ``v - v != 0`` is true exactly for NaN and +-inf and vectorises (no fastmath here: it
    would assume the values finite and fold the test away).
    """
    total = 0
    for i in prange(a.shape[0]):
        row = a[i]
        bad = 0
        for j in range(row.shape[0]):
            v = row[j]
            if v - v != 0.0:
                bad += 1
        total += bad
    return total


@njit(inline="always", fastmath=True, boundscheck=False)
def _dots(gs, a0, a1, a2, a3, m, n):
    """The dot products of ``gs`` with ``m <= 4`` rows ``a0..`` over ``n`` elements, in one
    pass: each ``gs[j]`` is loaded once for the ``m`` of them (unused rows: any array)."""
    s0 = s1 = s2 = s3 = np.float32(0.0)
    if m == 4:
        for j in range(n):
            gj = gs[j]
            s0 += gj * a0[j]
            s1 += gj * a1[j]
            s2 += gj * a2[j]
            s3 += gj * a3[j]
    elif m == 3:
        for j in range(n):
            gj = gs[j]
            s0 += gj * a0[j]
            s1 += gj * a1[j]
            s2 += gj * a2[j]
    elif m == 2:
        for j in range(n):
            gj = gs[j]
            s0 += gj * a0[j]
            s1 += gj * a1[j]
    else:
        for j in range(n):
            s0 += gs[j] * a0[j]
    return s0, s1, s2, s3


@njit(parallel=True, fastmath=True, cache=True, boundscheck=False)
def weight_grad(xph, width, g, partial, top, left, sh, sw, dh, dw, groups):
    """The gradient of a zero-padded convolution with respect to its weight, by bands of rows:
    ``partial[b, o, ci, ky, kx] = sum g[o, i, j] * xpad[c, i*sh + ky*dh, j*sw + kx*dw]`` over
    the output rows ``i`` of band ``b`` and every column ``j`` (``xpad``: the input with ``top``
    rows and ``left`` columns of zeros before it, zeros after; ``c`` the input channel ``ci``
    of output ``o``'s group).

    The input comes deinterleaved by the column stride: ``xph[c, r, p, m]`` is column
    ``p + m*sw`` of row ``r`` (``width`` columns), so that every tap reads a contiguous run.

    One task per (band, input channel), for every output of the channel's group: each input row
    is read from memory once for all of them. For each output and output row, the taps whose
    kernel row falls inside the image are dot products of that row of ``g`` with a run of an
    input row, four at a time (each ``g`` value loaded once for four taps; the rows in cache);
    the columns whose taps may fall in the padding are summed apart, with a test. Each row's
    products are summed in float32 (vectorised), each row's sum added in float64. Why not
    im2col and a matrix product: that product has two small sides and one huge one, and
    OpenBLAS's threads measured 20-70x slower than one thread on a busy machine.
    """
    n_bands, c_out, cpg, kh, kw = partial.shape
    h = xph.shape[1]
    h_out, w_out = g.shape[1], g.shape[2]
    opg = c_out // groups
    per = (h_out + n_bands - 1) // n_bands
    # Columns j in [jlo, jhi) read inside the image for every kx: 0 <= j*sw + kx*dw - left < w
    last = width - 1 + left - (kw - 1) * dw
    jlo = min((left + sw - 1) // sw, w_out)
    jhi = max(min(w_out, last // sw + 1) if last >= 0 else 0, jlo)
    n = jhi - jlo
    c_in = groups * cpg
    for task in prange(n_bands * c_in):
        b = task // c_in
        c = task % c_in
        ci = c % cpg
        o0 = (c // cpg) * opg  # the group's outputs: o0 .. o0 + opg - 1
        acc = np.zeros((opg, kh * kw), np.float64)
        rsel = np.empty(kh * kw, np.int64)
        psel = np.empty(kh * kw, np.int64)
        offs = np.empty(kh * kw, np.int64)
        tap = np.empty(kh * kw, np.int64)
        for i in range(b * per, min(b * per + per, h_out)):
            nt = 0
            for ky in range(kh):
                r = i * sh + ky * dh - top
                if r < 0 or r >= h:
                    continue
                for kx in range(kw):
                    off = kx * dw - left  # output column j reads column j*sw + off
                    rsel[nt] = r
                    psel[nt] = off % sw  # ... which is xph[c, r, off % sw, j + off // sw]
                    offs[nt] = off
                    tap[nt] = ky * kw + kx
                    nt += 1
            for ol in range(opg):  # the input rows stay in the L1 cache for every output
                grow = g[o0 + ol, i]
                for t in range(nt):  # the border columns, tested
                    s = np.float32(0.0)
                    for j in range(jlo):
                        col = j * sw + offs[t]
                        if col >= 0 and col < width:
                            s += grow[j] * xph[c, rsel[t], col % sw, col // sw]
                    for j in range(jhi, w_out):
                        col = j * sw + offs[t]
                        if col >= 0 and col < width:
                            s += grow[j] * xph[c, rsel[t], col % sw, col // sw]
                    acc[ol, tap[t]] += s
                if n == 0:
                    continue
                gs = grow[jlo:jhi]
                t = 0
                while t < nt:
                    m = min(4, nt - t)
                    t1, t2, t3 = t + min(1, m - 1), t + min(2, m - 1), t + min(3, m - 1)
                    q0 = jlo + offs[t] // sw
                    q1 = jlo + offs[t1] // sw
                    q2 = jlo + offs[t2] // sw
                    q3 = jlo + offs[t3] // sw
                    s0, s1, s2, s3 = _dots(gs, xph[c, rsel[t], psel[t]][q0:q0 + n],
                                           xph[c, rsel[t1], psel[t1]][q1:q1 + n],
                                           xph[c, rsel[t2], psel[t2]][q2:q2 + n],
                                           xph[c, rsel[t3], psel[t3]][q3:q3 + n], m, n)
                    acc[ol, tap[t]] += s0
                    if m > 1:
                        acc[ol, tap[t1]] += s1
                    if m > 2:
                        acc[ol, tap[t2]] += s2
                    if m > 3:
                        acc[ol, tap[t3]] += s3
                    t += m
        for ol in range(opg):
            for k in range(kh * kw):
                partial[b, o0 + ol, ci, k // kw, k % kw] = acc[ol, k]
