// Every layer's maps of one digit, drawn on canvases, and clickable: a click on any cell sends
// {stage, c, i, j} as the trigger "cell"; the server answers with the cell's receptive field
// on every earlier map (data.regions), outlined here.
//
// data (JSON): {
//   stages: [{key, title, note, c, h, w, px, minpx, cols, scale: "ink" | "div" | "seq",
//             end, lo, hi, data: base64 of c*h*w bytes (0..255 along the colour scale),
//             names: [labels of units] | null}],
//   sel: {stage, c, i, j} | null,
//   regions: [{stage, channels: [c...] | null, r0, r1, c0, c1}],
// }
// Bytes, not numbers: a layer's values are quantised to the 256 colours of its scale (the
// exact values are on the server, which shows them for the selected cell).

const VERMILLION = "#D55E00";
// Plotly's RdBu reversed: blue negative, white zero, red positive
const DIV = [[0, [5, 48, 97]], [0.1, [33, 102, 172]], [0.2, [67, 147, 195]],
             [0.3, [146, 197, 222]], [0.4, [209, 229, 240]], [0.5, [247, 247, 247]],
             [0.6, [253, 219, 199]], [0.7, [244, 165, 130]], [0.8, [214, 96, 77]],
             [0.9, [178, 24, 43]], [1, [103, 0, 31]]];
const SEQ = DIV.slice(5).map(([t, c]) => [(t - 0.5) * 2, c]);  // its positive half
const INK = [[0, [255, 255, 255]], [1, [17, 17, 17]]];  // paper white, ink black

function lut(stops) {
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1][0]) k++;
    const [t0, c0] = stops[k], [t1, c1] = stops[k + 1];
    const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
    for (let ch = 0; ch < 3; ch++) out[i * 3 + ch] = Math.round(c0[ch] + (c1[ch] - c0[ch]) * f);
  }
  return out;
}
const LUTS = { div: lut(DIV), seq: lut(SEQ), ink: lut(INK) };
const GRADIENT = {
  div: DIV, seq: SEQ, ink: INK,
};

function gradientCss(stops) {
  return "linear-gradient(to right, " +
    stops.map(([t, c]) => `rgb(${c.join(",")}) ${(t * 100).toFixed(0)}%`).join(", ") + ")";
}

function decode(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function el(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(2) : v.toExponential(1);
}

// the colour bar: the scale from its start to its end, the real minimum and maximum marked
function colourBar(stage, parent) {
  const box = el("div", "conv-net-bar", parent);
  const start = stage.scale === "div" ? -stage.end : 0;
  const strip = el("div", "conv-net-bar-strip", box);
  strip.style.background = gradientCss(GRADIENT[stage.scale]);
  const at = (v) => `${(100 * (v - start) / (stage.end - start || 1)).toFixed(1)}%`;
  for (const [v, name] of [[stage.lo, "min"], [stage.hi, "max"]]) {
    const mark = el("div", "conv-net-bar-mark", strip);
    mark.style.left = at(v);
    mark.title = `${name} ${fmt(v)}`;
  }
  const ticks = el("div", "conv-net-bar-ticks", box);
  el("span", "", ticks, fmt(start));
  if (stage.scale === "div") el("span", "", ticks, "0");
  el("span", "", ticks, fmt(stage.end));
  el("div", "conv-net-bar-range", box, `min ${fmt(stage.lo)} · max ${fmt(stage.hi)}`);
}

function drawMap(canvas, stage, values, ch, region, selected) {
  const { h, w, px } = stage;
  const dpr = window.devicePixelRatio || 1;
  const W = Math.round(w * px * dpr), H = Math.round(h * px * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const table = LUTS[stage.scale];
  const base = ch * h * w;
  for (let k = 0; k < h * w; k++) {
    const v = values[base + k];
    img.data[4 * k] = table[3 * v];
    img.data[4 * k + 1] = table[3 * v + 1];
    img.data[4 * k + 2] = table[3 * v + 2];
    img.data[4 * k + 3] = 255;
  }
  const off = document.createElement("canvas");
  off.width = w;
  off.height = h;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, W, H);
  const cw = W / w, chh = H / h;
  if (region) {
    const inside = region.channels === null || region.channels.includes(ch);
    if (!inside) {
      ctx.fillStyle = "rgba(255,255,255,0.72)";
      ctx.fillRect(0, 0, W, H);
    } else {
      const x = region.c0 * cw, y = region.r0 * chh;
      const rw = (region.c1 - region.c0 + 1) * cw, rh = (region.r1 - region.r0 + 1) * chh;
      ctx.lineWidth = Math.max(2, 2 * dpr);
      ctx.strokeStyle = "#ffffff";
      ctx.strokeRect(x + ctx.lineWidth, y + ctx.lineWidth, rw - 2 * ctx.lineWidth,
                     rh - 2 * ctx.lineWidth);
      ctx.strokeStyle = VERMILLION;
      ctx.lineWidth = Math.max(2, 2.5 * dpr);
      ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, rw - ctx.lineWidth,
                     rh - ctx.lineWidth);
    }
  }
  if (selected) {
    if (selected.c !== ch) {
      ctx.fillStyle = "rgba(255,255,255,0.5)";
      ctx.fillRect(0, 0, W, H);
    } else {
      const lw = Math.max(3, 3 * dpr);
      ctx.lineWidth = lw;
      ctx.strokeStyle = "#000000";
      ctx.strokeRect(selected.j * cw - lw / 2, selected.i * chh - lw / 2, cw + lw, chh + lw);
      ctx.strokeStyle = VERMILLION;
      ctx.lineWidth = lw * 0.6;
      ctx.strokeRect(selected.j * cw, selected.i * chh, cw, chh);
    }
  }
}

function cellAt(ev, canvas, stage) {
  const r = canvas.getBoundingClientRect();
  const j = Math.floor((ev.clientX - r.left) / r.width * stage.w);
  const i = Math.floor((ev.clientY - r.top) / r.height * stage.h);
  return { i: Math.min(Math.max(i, 0), stage.h - 1), j: Math.min(Math.max(j, 0), stage.w - 1) };
}

// units of a fully connected layer, drawn as a grid of `cols` columns: unit u at (u / cols, u % cols)
function unitStage(stage) {
  const cols = stage.cols || stage.c;
  return { ...stage, h: Math.ceil(stage.c / cols), w: cols, cols };
}

const MAP_GAP = 12;  // px between maps (the CSS gap and the outline)

// the largest cell size, from the stage's own px down to its minpx, at which its maps fit in
// one row of `width` pixels (else minpx, and the maps wrap)
function fitPx(stage, n, width) {
  const fit = Math.floor((width - (n - 1) * MAP_GAP - 2 * n) / (n * stage.w));
  return Math.max(stage.minpx || stage.px, Math.min(stage.px, fit));
}

function render(root, spec, send) {
  root.replaceChildren();
  root.__width = root.clientWidth;
  const regions = {};
  for (const r of spec.regions || []) regions[r.stage] = r;
  for (const raw of spec.stages) {
    const flat = raw.h === 1 && raw.w === 1;
    const stage = flat ? unitStage(raw) : raw;
    const values = decode(raw.data);
    const row = el("section", "conv-net-stage", root);
    row.dataset.stage = raw.key;
    const head = el("div", "conv-net-head", row);
    el("div", "conv-net-title", head, raw.title);
    if (raw.note) el("div", "conv-net-note", head, raw.note);
    colourBar(raw, head);
    const maps = el("div", "conv-net-maps", row);
    const sel = spec.sel && spec.sel.stage === raw.key ? spec.sel : null;
    const region = regions[raw.key] || null;
    const nMaps = flat ? 1 : raw.c;
    stage.px = fitPx(stage, nMaps, maps.clientWidth || root.clientWidth);
    for (let ch = 0; ch < nMaps; ch++) {
      const fig = el("figure", "conv-net-map", maps);
      const canvas = el("canvas", "", fig);
      canvas.style.width = `${stage.w * stage.px}px`;
      canvas.style.height = `${stage.h * stage.px}px`;
      const label = flat ? "" : (raw.c > 1 ? String(ch + 1) : "");
      canvas.setAttribute("role", "button");
      canvas.setAttribute("aria-label", `${raw.title}${label ? ", map " + label : ""}: click a cell to trace it`);
      canvas.dataset.map = String(ch);
      if (label) el("figcaption", "", fig, label);
      if (flat) {
        // unit u of the strip: padded to a full grid with paper
        const padded = new Uint8Array(stage.h * stage.w).fill(raw.scale === "div" ? 128 : 0);
        padded.set(values);
        const unitSel = sel ? { c: 0, i: Math.floor(sel.c / stage.cols), j: sel.c % stage.cols } : null;
        drawMap(canvas, stage, padded, 0, region, unitSel);
        if (raw.names) {
          const names = el("div", "conv-net-names", fig);
          names.style.width = canvas.style.width;
          for (const n of raw.names) {
            const s = el("span", "", names, n);
            s.style.width = `${stage.px}px`;
          }
        }
        canvas.addEventListener("click", (ev) => {
          const { i, j } = cellAt(ev, canvas, stage);
          const u = i * stage.cols + j;
          if (u < raw.c) send({ stage: raw.key, c: u, i: 0, j: 0 });
        });
      } else {
        drawMap(canvas, stage, values, ch, region, sel);
        canvas.addEventListener("click", (ev) => {
          const { i, j } = cellAt(ev, canvas, stage);
          send({ stage: raw.key, c: ch, i, j });
        });
      }
    }
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(":scope > .conv-net");
  if (!root) root = el("div", "conv-net", parentElement);
  root.__send = setTriggerValue;
  const text = typeof data === "string" ? data : JSON.stringify(data);
  if (root.__text === text) return;
  root.__text = text;
  root.__spec = typeof data === "string" ? JSON.parse(data) : data;
  render(root, root.__spec, (cell) => root.__send("cell", cell));
  if (!root.__observer) {  // a new width (the sidebar, a rotated tablet): lay the maps out again
    root.__observer = new ResizeObserver(() => {
      if (root.__spec && Math.abs(root.clientWidth - (root.__width || 0)) > 16) {
        render(root, root.__spec, (cell) => root.__send("cell", cell));
      }
    });
    root.__observer.observe(root);
  }
}
