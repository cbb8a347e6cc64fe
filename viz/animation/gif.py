"""The GIF: a scene drawn frame by frame with Pillow, for slides and for browsers without
JavaScript; the same grids, shapes and texts as the Plotly figure, in the same colours."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

from viz.animation.palette import MONO, colour_at, hex_rgb
from viz.animation.scene import Scene, path_rects

# Steps a GIF shows at most, so that drawing it stays quick and the file fits on a slide.
MAX_GIF_FRAMES = 300

# Each kind's font files, tried in order (the first that loads wins): DejaVu, else Liberation.
FONT_FILES = {
    "sans": ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
             "LiberationSans-Regular.ttf"),
    "bold": ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
             "LiberationSans-Bold.ttf"),
    "mono": ("DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
             "LiberationMono-Regular.ttf"),
    "italic": ("DejaVuSans-Oblique.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
               "LiberationSans-Italic.ttf"),
}


@lru_cache(maxsize=64)
def pil_font(kind: str, size: int):
    """A Pillow font of ``kind`` (a key of :data:`FONT_FILES`) at ``size`` px."""
    from PIL import ImageFont

    for name in FONT_FILES[kind]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)  # Pillow's bundled font: always there


def _rgba(color: str) -> tuple[int, int, int, int]:
    if color.startswith("rgba"):
        parts = [p.strip() for p in color[color.index("(") + 1:-1].split(",")]
        return (int(parts[0]), int(parts[1]), int(parts[2]), int(float(parts[3]) * 255))
    return (*hex_rgb(color), 255)


def _plain(text: str) -> list[str]:
    import re

    return [re.sub(r"<[^>]+>", "", line) for line in text.split("<br>")]


def scene_gif(scene: Scene, n: int, frame_ms: int) -> bytes:
    from PIL import Image, ImageDraw

    scale = max(0.5, min(1.0, 900 / ((scene.x_range[1] - scene.x_range[0]) * scene.cell_px)))
    cell = scene.cell_px * scale
    x0, y0 = scene.x_range[0], scene.y_range[0]
    wpx = int((scene.x_range[1] - x0) * cell) + 16
    hpx = int((scene.y_range[1] - y0) * cell) + 16

    def px(x: float, y: float) -> tuple[float, float]:
        return 8 + (x - x0) * cell, 8 + (y - y0) * cell

    sty = scene.style
    base = Image.new("RGB", (wpx, hpx), sty.rgb_paper)
    d = ImageDraw.Draw(base)
    for g in scene.grids:
        fnt = (pil_font("italic" if g.italic else "sans", max(8, int(g.font_px * scale)))
               if g.font_px else None)
        u = g.box.unit
        side = cell * u
        for r in range(g.z.shape[0]):
            for c in range(g.z.shape[1]):
                v = g.z[r, c]
                if not np.isfinite(v):
                    continue
                rgb = colour_at(g.colorscale, g.zmin, g.zmax, float(v))
                a, b = px(g.box.x + c * u, g.box.y + r * u)
                d.rectangle([a + 1, b + 1, a + side - 1, b + side - 1], fill=rgb)
                if fnt is not None and g.text is not None and g.text[r][c]:
                    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                    col = hex_rgb(g.font_color) if g.font_color else ((0, 0, 0) if lum > 140 else (255, 255, 255))
                    d.text((a + side / 2, b + side / 2), g.text[r][c], fill=col, font=fnt, anchor="mm")

    def draw_shape(dr, s: dict) -> None:
        if "path" in s:
            for x0_, y0_, x1_, y1_ in path_rects(s["path"]):
                draw_shape(dr, {**{k: v for k, v in s.items() if k != "path"},
                                "x0": x0_, "y0": y0_, "x1": x1_, "y1": y1_})
            return
        a = px(s["x0"], s["y0"])
        b = px(s["x1"], s["y1"])
        if abs(b[0] - a[0]) < 1 or abs(b[1] - a[1]) < 1:
            return
        box = [min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])]
        fill = s.get("fillcolor")
        line = s.get("line", {})
        width = int(line.get("width", 1) * scale + 0.5)
        if fill:
            rgba = _rgba(fill)
            if rgba[3] == 255:
                dr.rectangle(box, fill=rgba[:3])
        if width > 0 and line.get("color"):
            dr.rectangle(box, outline=hex_rgb(line["color"]), width=max(1, width))

    def draw_text(dr, t: dict, text: str) -> None:
        kind = "mono" if t.get("font", {}).get("family") == MONO else "sans"
        if "<b>" in text and kind == "sans":
            kind = "bold"
        if t.get("font", {}).get("style") == "italic" and kind == "sans":
            kind = "italic"
        size = max(9, int(t.get("font", {}).get("size", 14) * scale))
        fnt = pil_font(kind, size)
        lines = _plain(text)
        x, y = px(t["x"], t["y"])
        line_h = size * 1.3
        total = line_h * len(lines)
        if t.get("yanchor") == "bottom":
            y -= total
        elif t.get("yanchor") == "middle":
            y -= total / 2
        for i, line in enumerate(lines):
            w = dr.textlength(line, font=fnt)
            xx = x - w if t.get("xanchor") == "right" else x - w / 2 if t.get("xanchor") == "center" else x
            colour = t.get("font", {}).get("color")
            fill = hex_rgb(colour) if colour and colour.startswith("#") else sty.rgb_text
            dr.text((xx, y + i * line_h), line, fill=fill, font=fnt)

    for s in scene.static_shapes:
        draw_shape(d, s)
    for t in scene.static_texts:
        draw_text(d, t, t["text"])
    frames = []
    for k in range(n):
        im = base.copy()
        dr = ImageDraw.Draw(im)
        shapes, texts = scene.steps[k]
        for tpl, coords in zip(scene.dyn_shapes, shapes):
            draw_shape(dr, {**tpl, **coords})
        for tpl, s in zip(scene.dyn_texts, texts):
            draw_text(dr, tpl, s)
        frames.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    durations = [frame_ms] * len(frames)
    durations[-1] = frame_ms * 3
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
    return buf.getvalue()
