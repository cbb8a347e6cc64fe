"""A layer's stages as pictures for slides: one image of the whole strip (input -> padded ->
convolution -> bias -> activation -> pooling), or an animated GIF with one frame per stage.

Each stage is a :class:`StageCard` (its picture already mapped to colours, as the page shows
it, with its shape, real range, colour scale and what its limits clip); these functions only
lay the cards out with Pillow, in a :class:`viz.style.Style`'s colours. Nothing here imports
Streamlit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from viz.animation.gif import pil_font
from viz.style import LIGHT, Style

__all__ = ["StageCard", "strip_gif", "strip_png"]


@dataclass(frozen=True, eq=False)
class StageCard:
    title: str            # "Convolution"
    rgb: np.ndarray       # uint8 (h, w, 3): the stage's picture
    shape: str            # "768 x 1024 x 1"
    range_text: str       # "-775 … 612"
    colorscale: list      # Plotly stops of its colour bar
    lo: str               # the bar's ends as printed ("≤-183", "≥183")
    hi: str
    how: str              # "signed, 99.5th percentile of |x|"
    clip: str = ""        # "clipped: 0.5 % of pixels"


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _bar(colorscale: list, width: int, height: int) -> Image.Image:
    """The colour scale as a horizontal bar."""
    pos = np.array([p for p, _ in colorscale])
    rgb = np.array([_hex(c) for _, c in colorscale], np.float64)
    t = np.linspace(0, 1, width)
    row = np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=1)
    return Image.fromarray(np.repeat(row[None].round().astype(np.uint8), height, axis=0))


def _fit(rgb: np.ndarray, side: int) -> Image.Image:
    """The picture scaled to fit a ``side`` square (nearest neighbour: pixels stay sharp)."""
    im = Image.fromarray(np.ascontiguousarray(rgb))
    scale = side / max(im.width, im.height)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    return im.resize(size, resample)


def _draw_card(card: StageCard, side: int, style: Style, *, current: bool = False,
               number: int | None = None) -> Image.Image:
    """One card: title, picture, shape, range, colour bar with its ends, clip note."""
    s = style.font_scale
    title_f, big_f = pil_font("bold", int(22 * s)), pil_font("bold", int(20 * s))
    f = pil_font("sans", int(16 * s))
    pad = 14
    w = side + 2 * pad
    h = side + int(260 * s)
    im = Image.new("RGB", (w, h), _hex(style.panel))
    d = ImageDraw.Draw(im)
    if current:
        d.rectangle([0, 0, w - 1, h - 1], outline=(255, 75, 75), width=int(style.width(4)))
    y = pad
    title = f"{number}. {card.title}" if number is not None else card.title
    d.text((pad, y), title, fill=_hex(style.text), font=title_f)
    y += int(34 * s)
    pic = _fit(card.rgb, side)
    im.paste(pic, (pad + (side - pic.width) // 2, y + (side - pic.height) // 2))
    d.rectangle([pad - 1, y - 1, pad + side, y + side], outline=_hex(style.line), width=1)
    y += side + 8
    d.text((pad, y), card.shape, fill=_hex(style.text), font=big_f)
    y += int(28 * s)
    d.text((pad, y), f"range {card.range_text}", fill=_hex(style.text), font=f)
    y += int(24 * s)
    bar = _bar(card.colorscale, side, 14)
    im.paste(bar, (pad, y))
    d.rectangle([pad - 1, y - 1, pad + side, y + 14], outline=_hex(style.line), width=1)
    y += 18
    d.text((pad, y), card.lo, fill=_hex(style.text), font=f)
    d.text((pad + side, y), card.hi, fill=_hex(style.text), font=f, anchor="ra")
    y += int(24 * s)
    if card.clip:
        d.text((pad, y), card.clip, fill=_hex(style.text), font=f)
        y += int(22 * s)
    for line in _lines(d, card.how, f, side):
        d.text((pad, y), line, fill=_hex(style.muted), font=f)
        y += int(21 * s)
    return im.crop((0, 0, w, min(h, y + pad)))


def _lines(d: ImageDraw.ImageDraw, text: str, font, width: float) -> list[str]:
    """``text`` broken at spaces into lines at most ``width`` pixels wide."""
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if line and d.textlength(trial, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


def _arrow(height: int, style: Style) -> Image.Image:
    im = Image.new("RGB", (44, height), _hex(style.paper))
    d = ImageDraw.Draw(im)
    d.text((22, height // 2), "→", fill=_hex(style.muted), font=pil_font("sans", 34), anchor="mm")
    return im


def strip_png(cards: list[StageCard], *, style: Style = LIGHT, side: int = 300,
              title: str = "") -> bytes:
    """Every stage side by side, arrows between them, as one PNG."""
    drawn = [_draw_card(c, side, style, number=k + 1) for k, c in enumerate(cards)]
    h = max(c.height for c in drawn)
    arrow = _arrow(h, style)
    head = int(44 * style.font_scale) if title else 0
    w = sum(c.width for c in drawn) + arrow.width * (len(drawn) - 1) + 20
    im = Image.new("RGB", (w, h + head + 20), _hex(style.paper))
    if title:
        ImageDraw.Draw(im).text((10, 10), title, fill=_hex(style.text),
                                font=pil_font("bold", int(24 * style.font_scale)))
    x = 10
    for k, c in enumerate(drawn):
        im.paste(c, (x, head + 10))
        x += c.width
        if k < len(drawn) - 1:
            im.paste(arrow, (x, head + 10))
            x += arrow.width
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def strip_gif(cards: list[StageCard], *, style: Style = LIGHT, side: int = 560,
              title: str = "", frame_ms: int = 1500) -> bytes:
    """One frame per stage: the stage large, with the chain of stages above it and this one
    marked, the last frame held longer."""
    names = [c.title for c in cards]
    s = style.font_scale
    chain_f = pil_font("sans", int(17 * s))
    chain_b = pil_font("bold", int(17 * s))
    frames = []
    for k, card in enumerate(cards):
        body = _draw_card(card, side, style, current=True, number=k + 1)
        head = int(40 * s) + (int(36 * s) if title else 0)
        w = max(body.width + 20, 900)
        im = Image.new("RGB", (w, body.height + head + 20), _hex(style.paper))
        d = ImageDraw.Draw(im)
        y = 8
        if title:
            d.text((10, y), title, fill=_hex(style.text), font=pil_font("bold", int(22 * s)))
            y += int(36 * s)
        x = 10
        for i, name in enumerate(names):
            font = chain_b if i == k else chain_f
            colour = (255, 75, 75) if i == k else _hex(style.muted)
            d.text((x, y), name, fill=colour, font=font)
            x += int(d.textlength(name, font=font))
            if i < len(names) - 1:
                d.text((x, y), "  →  ", fill=_hex(style.muted), font=chain_f)
                x += int(d.textlength("  →  ", font=chain_f))
        im.paste(body, ((w - body.width) // 2, head + 10))
        frames.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=255))
    buf = io.BytesIO()
    durations = [frame_ms] * len(frames)
    durations[-1] = frame_ms * 2
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0, optimize=False, disposal=1)
    return buf.getvalue()
