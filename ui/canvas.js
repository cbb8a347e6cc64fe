// A drawing canvas for a digit: mouse, touch and pen alike (pointer events), a stroke width,
// Undo and Clear. What it sends to the server is the pen's path, not a picture: on every
// stroke's end (and on Undo, Clear and a new width) the state value "drawing" becomes
//   {size: 280, width: <pen width>, strokes: [[x0, y0, x1, y1, ...], ...], n: <edit count>}
// in canvas units (0..280 whatever the canvas' size on screen), a few hundred numbers.
//
// data: {size, width, label, active, hint, clear, restore}: the canvas' units, the pen's width
// to start with, its accessible label, whether the page shows this drawing (else it is dimmed,
// with `hint` on it), a token (a new value clears the drawing: a link replaced it), and the
// drawing the server last received, drawn again by a canvas built anew (the page was left and
// opened again) so that the canvas shows what the page shows.

const MIN_WIDTH = 8, MAX_WIDTH = 40;
const MIN_STEP = 1.5;  // canvas units between kept points (a fast mouse sends many)

function el(tag, attrs, parent) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
}

function build(root, data) {
  const pad = el("div", { class: "conv-canvas-pad" }, root);
  const canvas = el("canvas", {
    class: "conv-canvas-surface", tabindex: "0", role: "img",
    "aria-label": data.label || "Draw a digit",
    "aria-describedby": "conv-canvas-help",
  }, pad);
  const hint = el("div", { class: "conv-canvas-hint", "aria-hidden": "true" }, pad);
  el("p", {
    id: "conv-canvas-help", class: "conv-canvas-sr",
    text: "Draw with the mouse, a finger or a pen. Undo removes the last stroke; Clear " +
          "removes all.",
  }, root);
  const bar = el("div", { class: "conv-canvas-bar" }, root);
  const undo = el("button", { type: "button", class: "conv-canvas-btn", text: "↶ Undo" }, bar);
  const clear = el("button", { type: "button", class: "conv-canvas-btn", text: "✕ Clear" }, bar);
  const label = el("label", { class: "conv-canvas-width" }, bar);
  el("span", { text: "Stroke width" }, label);
  const width = el("input", { type: "range", min: String(MIN_WIDTH), max: String(MAX_WIDTH),
                              step: "1", "aria-label": "Stroke width" }, label);
  return { canvas, hint, undo, clear, width };
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const size = data.size || 280;
  let root = parentElement.querySelector(":scope > .conv-canvas");
  if (!root) {
    root = el("div", { class: "conv-canvas" }, parentElement);
    const ui = build(root, data);
    const st = { strokes: [], current: null, width: data.width || 20, n: 0, clear: data.clear,
                 pointer: null };
    root.__st = st;
    root.__ui = ui;
    const restore = data.restore;
    if (restore && Array.isArray(restore.strokes) && restore.strokes.length) {
      st.strokes = restore.strokes.map((s) => s.slice());
      st.width = restore.width || st.width;
      st.n = restore.n || 0;
    }
    ui.width.value = String(st.width);
    const ctx = ui.canvas.getContext("2d");

    const toUnits = (ev) => {
      const r = ui.canvas.getBoundingClientRect();
      return [(ev.clientX - r.left) * size / r.width, (ev.clientY - r.top) * size / r.height];
    };
    const redraw = () => {
      const c = ui.canvas, scale = c.width / size;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.setTransform(scale, 0, 0, scale, 0, 0);
      ctx.strokeStyle = "#111111";
      ctx.fillStyle = "#111111";
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.lineWidth = st.width;
      const all = st.current ? st.strokes.concat([st.current]) : st.strokes;
      for (const s of all) {
        if (s.length === 2) {  // a dot
          ctx.beginPath();
          ctx.arc(s[0], s[1], st.width / 2, 0, 2 * Math.PI);
          ctx.fill();
          continue;
        }
        ctx.beginPath();
        ctx.moveTo(s[0], s[1]);
        for (let i = 2; i < s.length; i += 2) ctx.lineTo(s[i], s[i + 1]);
        ctx.stroke();
      }
    };
    root.__redraw = redraw;
    const fit = () => {  // the bitmap follows the canvas' size on screen, sharp on any display
      const r = ui.canvas.getBoundingClientRect();
      const px = Math.max(1, Math.round(r.width * (window.devicePixelRatio || 1)));
      if (ui.canvas.width !== px) {
        ui.canvas.width = px;
        ui.canvas.height = px;
        redraw();
      }
    };
    new ResizeObserver(fit).observe(ui.canvas);
    const send = () => {
      st.n += 1;
      const strokes = st.strokes.map((s) => s.map((v) => Math.round(v * 10) / 10));
      root.__setState("drawing", { size, width: st.width, strokes, n: st.n });
    };
    const add = (x, y) => {
      const s = st.current, k = s.length;
      if (k >= 2 && Math.hypot(x - s[k - 2], y - s[k - 1]) < MIN_STEP) return;
      s.push(x, y);
    };
    ui.canvas.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0 && ev.pointerType === "mouse") return;
      if (st.pointer !== null) return;  // a second finger does not draw
      ev.preventDefault();
      ui.canvas.setPointerCapture(ev.pointerId);
      st.pointer = ev.pointerId;
      st.current = [];
      add(...toUnits(ev));
      redraw();
    });
    ui.canvas.addEventListener("pointermove", (ev) => {
      if (ev.pointerId !== st.pointer || !st.current) return;
      ev.preventDefault();
      const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
      for (const e of (events.length ? events : [ev])) add(...toUnits(e));
      redraw();
    });
    const end = (ev) => {
      if (ev.pointerId !== st.pointer || !st.current) return;
      st.pointer = null;
      if (st.current.length) st.strokes.push(st.current);
      st.current = null;
      redraw();
      send();
    };
    ui.canvas.addEventListener("pointerup", end);
    ui.canvas.addEventListener("pointercancel", end);
    ui.undo.addEventListener("click", () => {
      if (!st.strokes.length) return;
      st.strokes.pop();
      redraw();
      send();
    });
    ui.clear.addEventListener("click", () => {
      if (!st.strokes.length) return;
      st.strokes = [];
      redraw();
      send();
    });
    ui.width.addEventListener("change", () => {
      st.width = Number(ui.width.value);
      redraw();
      if (st.strokes.length) send();
    });
    ui.width.addEventListener("input", () => {
      st.width = Number(ui.width.value);
      redraw();
    });
    fit();
  }
  // every run: the newest setter, the dimmed state and a clear requested by the server
  root.__setState = setStateValue;
  const st = root.__st, ui = root.__ui;
  if (data.clear !== st.clear) {
    st.clear = data.clear;
    st.strokes = [];
    st.current = null;
    root.__redraw();
  }
  root.classList.toggle("conv-canvas-inactive", !data.active);
  ui.hint.textContent = data.active ? "" : (data.hint || "");
}
