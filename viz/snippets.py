"""Code that reproduces the filter lab's current layer: NumPy/SciPy and PyTorch.

Both snippets start from the same input the app computes on (the photo, resized to the working
resolution by area averaging, as float32 0..255 channels-first) and apply exactly the layer of a
:class:`conv.stages.ConvSpec`: the padding is always written out explicitly (so TensorFlow-style
"same" at stride > 1 and the padding modes come out right), the weights are the float32 weights
the engine applies, and the activation and pooling follow ``torch.nn.functional``.

The NumPy/SciPy snippet is split in two: :func:`numpy_input` (load and prepare the photo) and
:func:`numpy_layer` (a function of ``x``), so a test can run the layer on the app's own input and
compare with the app's output.

Boundary-mode names differ between libraries; they are translated here:
PyTorch ``zeros/reflect/replicate/circular`` = numpy.pad ``constant/reflect/edge/wrap`` =
``F.pad`` ``constant/reflect/replicate/circular``.
"""

from __future__ import annotations

import numpy as np

from conv.ops import NUMPY_PAD_MODE
from conv.options import PADDING
from conv.stages import ConvSpec

__all__ = ["TORCH_PAD_MODE", "numpy_input", "numpy_layer", "numpy_snippet", "torch_snippet"]

TORCH_PAD_MODE = {m.name: m.torch_pad for m in PADDING.values()}
LUMA = "[0.299, 0.587, 0.114]"  # ITU-R BT.601, as conv.image.to_gray


def _open_image(filename: str, source_size, size) -> list[str]:
    """Lines that open the photo upright and bring it to the working resolution."""
    lines = [(f'img = ImageOps.exif_transpose(Image.open("{filename}")).convert("RGB")  '
              f"# {source_size[0]} x {source_size[1]}, upright")]
    if size is not None and tuple(size) != tuple(source_size):
        lines.append(f"img = img.resize(({size[0]}, {size[1]}), Image.Resampling.BOX, "
                     f"reducing_gap=1.0)  # working resolution, area averaging")
    return lines


def _num(v: float) -> str:
    v = float(v)
    if v == 0:
        return "-0.0" if np.signbit(v) else "0"
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _nested(a: np.ndarray, indent: int = 0) -> str:
    """A nested list literal, one kernel row per line."""
    if a.ndim == 1:
        return "[" + ", ".join(_num(v) for v in a) + "]"
    pad = " " * (indent + 1)
    inner = (",\n" + pad).join(_nested(v, indent + 1) for v in a)
    return "[" + inner + "]"


def _pads(spec: ConvSpec, in_hw: tuple[int, int]):
    return spec.resolved_padding(in_hw)


def numpy_input(*, colour: str, size: tuple[int, int] | None, source_size: tuple[int, int],
                filename: str = "photo.jpg") -> str:
    """Load the photo and make ``x`` as the app does. ``size`` is the working (width, height)
    when it differs from ``source_size`` (width, height), else None."""
    lines = [
        "import numpy as np",
        "from PIL import Image, ImageOps",
        "",
    ]
    lines += _open_image(filename, source_size, size)
    lines.append("rgb = np.asarray(img, dtype=np.float32)  # (H, W, 3), values 0..255")
    if colour == "gray":
        lines.append(f"x = (rgb @ np.array({LUMA}, np.float32))[None]  "
                     f"# (1, H, W): BT.601 luma")
    else:
        lines.append("x = rgb.transpose(2, 0, 1)  # (3, H, W): channels first")
    return "\n".join(lines) + "\n"


def numpy_layer(spec: ConvSpec, in_hw: tuple[int, int]) -> str:
    """The layer as NumPy/SciPy code: reads ``x`` (C, H, W), leaves every stage in variables
    (``xp`` padded, ``conv``, ``y`` the output)."""
    (t, b), (l, r) = _pads(spec, in_hw)
    w = spec.weight_array
    mode = NUMPY_PAD_MODE[spec.padding_mode]
    pad_kw = "" if mode == "constant" else f', mode="{mode}"'
    out = [
        "import numpy as np",
        "from numpy.lib.stride_tricks import sliding_window_view",
        "from scipy import signal, special",
        "",
        f"# weights (C_out, C_in / groups, kH, kW) = {tuple(w.shape)}, applied in float32",
        f"w = np.array({_nested(w.astype(np.float64), 14)}, dtype=np.float32)",
    ]
    if spec.has_bias:
        out.append(f"b = np.array([{', '.join(_num(v) for v in spec.bias)}], dtype=np.float32)")
    out += [
        "",
        (f"# padding (top, bottom), (left, right) = ({t}, {b}), ({l}, {r}); "
        f"PyTorch padding_mode={spec.padding_mode!r}"),
        f"xp = np.pad(x, ((0, 0), ({t}, {b}), ({l}, {r})){pad_kw})",
        "",
        "",
        "def correlate(xp, w, stride, dilation, groups):",
        '    """Cross-correlation (no kernel flip), as torch.nn.functional.conv2d."""',
        "    c_out, c_group, kh, kw = w.shape",
        "    (sh, sw), (dh, dw) = stride, dilation",
        "    maps = []",
        "    for o in range(c_out):",
        "        g = o // (c_out // groups)  # the group (input channels) filter o reads",
        "        acc = 0.0",
        "        for c in range(c_group):",
        "            k = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1))",
        "            k[::dh, ::dw] = w[o, c]  # dilation: zeros between the taps",
        '            acc = acc + signal.correlate2d(xp[g * c_group + c], k, mode="valid")',
        "        maps.append(acc[::sh, ::sw])  # stride: keep every s-th window",
        "    return np.stack(maps).astype(np.float32)",
        "",
        "",
        (f"conv = correlate(xp, w, stride={spec.stride}, dilation={spec.dilation}, "
        f"groups={spec.groups})"),
        "y = conv" + (" + b[:, None, None]" if spec.has_bias else ""),
    ]
    act = spec.activation
    if act == "relu":
        out.append("y = np.maximum(y, 0)  # ReLU")
    elif act == "leaky_relu":
        s = _num(spec.negative_slope)
        out.append(f"y = np.where(y >= 0, y, np.float32({s}) * y)  # leaky ReLU, slope {s}")
    elif act == "sigmoid":
        out.append("y = special.expit(y)  # sigmoid")
    elif act == "tanh":
        out.append("y = np.tanh(y)")
    elif act == "abs":
        out.append("y = np.abs(y)")
    if spec.pool is not None:
        p = spec.pool
        (kh, kw), (sh, sw), (ph, pw) = p.kernel_size, p.effective_stride, p.padding
        fill = "-np.inf" if p.mode == "max" else "0"
        reduce = "max" if p.mode == "max" else "mean"
        out += [
            f"# {p.title}: windows {kh} x {kw} every ({sh}, {sw}), as F.{p.mode}_pool2d",
            f"yp = np.pad(y, ((0, 0), ({ph}, {ph}), ({pw}, {pw})), constant_values={fill})",
            f"win = sliding_window_view(yp, ({kh}, {kw}), axis=(1, 2))[:, ::{sh}, ::{sw}]",
            f"y = win.{reduce}(axis=(-2, -1))",
        ]
    out.append("print(y.shape, y.min(), y.max())  # (C, H_out, W_out)")
    return "\n".join(out) + "\n"


def numpy_snippet(spec: ConvSpec, *, in_hw: tuple[int, int], colour: str,
                  size: tuple[int, int] | None, source_size: tuple[int, int],
                  filename: str = "photo.jpg") -> str:
    """The whole NumPy/SciPy script."""
    head = "# The filter lab's current layer in NumPy/SciPy (no deep-learning library).\n"
    return head + numpy_input(colour=colour, size=size, source_size=source_size,
                              filename=filename) + "\n" + numpy_layer(spec, in_hw)


def torch_snippet(spec: ConvSpec, *, in_hw: tuple[int, int], colour: str,
                  size: tuple[int, int] | None, source_size: tuple[int, int],
                  filename: str = "photo.jpg") -> str:
    """The same layer with ``torch.nn.functional``."""
    (t, b), (l, r) = _pads(spec, in_hw)
    w = spec.weight_array
    lines = [
        "# The filter lab's current layer in PyTorch.",
        "import numpy as np",
        "import torch",
        "import torch.nn.functional as F",
        "from PIL import Image, ImageOps",
        "",
    ]
    lines += _open_image(filename, source_size, size)
    lines.append("rgb = torch.from_numpy(np.asarray(img, dtype=np.float32))  # (H, W, 3), 0..255")
    if colour == "gray":
        lines.append(f"x = (rgb @ torch.tensor({LUMA}))[None, None]  # (1, 1, H, W): BT.601 luma")
    else:
        lines.append("x = rgb.permute(2, 0, 1)[None]  # (1, 3, H, W)")
    lines += [
        "",
        f"w = torch.tensor({_nested(w.astype(np.float64), 16)}, dtype=torch.float32)",
        (f"b = torch.tensor([{', '.join(_num(v) for v in spec.bias)}])" if spec.has_bias
         else "b = None"),
    ]
    why = ""
    if isinstance(spec.padding, str) and spec.padding == "same" and max(spec.stride) > 1:
        why = "; 'same' at stride > 1 is TensorFlow's SAME, written out (PyTorch refuses it)"
    if (t, b, l, r) != (0, 0, 0, 0):
        mode = TORCH_PAD_MODE[spec.padding_mode]
        lines.append(f'x = F.pad(x, ({l}, {r}, {t}, {b}), mode="{mode}")'
                     f"  # (left, right, top, bottom){why}")
    lines.append(f"y = F.conv2d(x, w, b, stride={spec.stride}, dilation={spec.dilation}, "
                 f"groups={spec.groups})")
    act = spec.activation
    if act == "relu":
        lines.append("y = F.relu(y)")
    elif act == "leaky_relu":
        lines.append(f"y = F.leaky_relu(y, negative_slope={_num(spec.negative_slope)})")
    elif act == "sigmoid":
        lines.append("y = torch.sigmoid(y)")
    elif act == "tanh":
        lines.append("y = torch.tanh(y)")
    elif act == "abs":
        lines.append("y = y.abs()")
    if spec.pool is not None:
        p = spec.pool
        fn = "max_pool2d" if p.mode == "max" else "avg_pool2d"
        lines.append(f"y = F.{fn}(y, kernel_size={p.kernel_size}, stride={p.effective_stride}, "
                     f"padding={p.padding})")
    lines.append("print(y.shape)  # (1, C, H_out, W_out)")
    return "\n".join(lines) + "\n"

