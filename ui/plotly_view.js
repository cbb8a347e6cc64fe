// A Plotly figure that stays on the page and is updated in place (Plotly.react).
//
// Streamlit's st.plotly_chart gives a chart a new identity whenever its figure changes, so the
// browser throws the old plot away and builds a new one (and then draws it a second time, when
// Streamlit applies its theme to the new chart). Here the plot lives as long as the element: a
// new figure is handed to Plotly.react, which redraws only what changed and keeps the user's
// zoom (layout.uirevision). plotly.js is the copy shipped in static/ (served by Streamlit's
// static file serving), loaded once per browser tab.
//
// data: UTF-8 bytes of {"config": {...}, "fit": true?, "data": [...], "layout": {...}}.
// "fit": the plot is no taller than the window below its top (at least MIN_FIT px), so that a
// figure and the controls beside it are seen together; a new window size fits it again.

let loading = null;

// ---- Hover layers ---------------------------------------------------------------------------
// A heatmap trace with meta.role "hover" is an invisible grid of exact values (viz/maps.py).
// Plotly redraws every heatmap on every update (about 13 ms each here); such layers are taken
// out of the figure and their hover is drawn here instead, from the same numbers and with the
// trace's own hovertemplate: the label appears in every panel at once (the axes are linked, so
// a point of the input and the same point of the result), as Plotly's hover labels.

const DTYPES = { f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array,
                 i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array };

// values and shape of a Plotly array: a typed-array spec {dtype, bdata, shape} or nested lists
function unpack(a) {
  if (a && a.bdata !== undefined) {
    const bin = atob(a.bdata);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const values = new DTYPES[a.dtype](bytes.buffer);
    const shape = a.shape !== undefined ? String(a.shape).split(",").map(Number) : [values.length];
    return { values, shape };
  }
  const shape = [];
  for (let x = a; Array.isArray(x); x = x[0]) shape.push(x.length);
  return { values: a.flat(Infinity), shape };
}

// d3-format's "~g" (the one format the templates use): significant digits, zeros trimmed
function format(v, spec) {
  if (typeof v !== "number") return String(v);
  if (!(spec && /g$/.test(spec))) return String(v);
  const digits = parseInt(spec.replace(/\D/g, ""), 10) || 6;
  const [mantissa, exponent] = v.toPrecision(digits).split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  return exponent === undefined ? trimmed : trimmed + "e" + exponent;
}

// Plotly's hovertemplate syntax, the part the hover layers use: %{x}, %{z:.6~g},
// %{customdata[2]:.6~g}; <extra></extra> dropped
function render(template, vars) {
  return template.replace(/<extra>[\s\S]*?<\/extra>/g, "").replace(
    /%\{(\w+)(?:\[(\d+)\])?(?::([^}]*))?\}/g, (all, name, index, spec) => {
      let v = vars[name];
      if (index !== undefined) v = v === undefined ? undefined : v[Number(index)];
      return v === undefined ? "" : format(v, spec);
    });
}

function hoverLayer(t) {
  const z = unpack(t.z);
  const [ny, nx] = z.shape;
  const custom = t.customdata ? unpack(t.customdata) : null;
  const k = custom ? custom.values.length / (ny * nx) : 0;
  const x0 = t.x0 || 0, dx = t.dx || 1, y0 = t.y0 || 0, dy = t.dy || 1;
  return {
    xname: "xaxis" + (t.xaxis || "x").slice(1), yname: "yaxis" + (t.yaxis || "y").slice(1),
    // the middle of the grid, in data coordinates
    centre: { x: x0 + dx * (nx - 1) / 2, y: y0 + dy * (ny - 1) / 2 },
    // the label of the cell under data coordinates (x, y), or null outside the grid
    label(x, y) {
      const j = Math.round((x - x0) / dx), i = Math.round((y - y0) / dy);
      if (!(i >= 0 && i < ny && j >= 0 && j < nx)) return null;
      const at = i * nx + j;
      const customdata = custom ? Array.from(custom.values.subarray(at * k, at * k + k)) : undefined;
      return render(t.hovertemplate || "%{z}", { x: x0 + j * dx, y: y0 + i * dy,
                                                  z: z.values[at], customdata });
    },
  };
}

// the figure without its hover layers (a one-point invisible scatter keeps a layer's colour
// bar), and the layers
function takeHoverLayers(spec) {
  const layers = [], data = [];
  for (const t of spec.data || []) {
    if (!(t.type === "heatmap" && t.meta && t.meta.role === "hover")) {
      data.push(t);
      continue;
    }
    const layer = hoverLayer(t);
    layers.push(layer);
    if (t.showscale) {
      data.push({
        type: "scatter", mode: "markers", xaxis: t.xaxis, yaxis: t.yaxis, showlegend: false,
        hoverinfo: "skip", x: [layer.centre.x], y: [layer.centre.y],
        marker: { size: 1, opacity: 0, color: [t.zmin], cmin: t.zmin, cmax: t.zmax,
                  colorscale: t.colorscale, showscale: true, colorbar: t.colorbar },
      });
    }
  }
  if (layers.length) spec.layout = Object.assign({}, spec.layout, { hovermode: false });
  return { spec: Object.assign({}, spec, { data }), layers };
}

function bindHover(gd) {
  const container = () => gd._fullLayout && gd._fullLayout._hoverlayer &&
    gd._fullLayout._hoverlayer.node();
  const clear = () => {
    const c = container();
    if (c && window.Plotly) window.Plotly.Fx.loneUnhover(c);
  };
  gd.addEventListener("mouseleave", clear);
  gd.addEventListener("mousemove", (ev) => {
    const fl = gd._fullLayout, layers = gd.__hoverLayers || [];
    if (!fl || !layers.length || ev.buttons) return clear();  // not while dragging a zoom box
    const box = gd.getBoundingClientRect();
    const px = ev.clientX - box.left, py = ev.clientY - box.top;
    let here = null;
    for (const L of layers) {
      const xa = fl[L.xname], ya = fl[L.yname];
      if (xa && ya && px >= xa._offset && px <= xa._offset + xa._length &&
          py >= ya._offset && py <= ya._offset + ya._length) {
        here = { x: xa.p2d(px - xa._offset), y: ya.p2d(py - ya._offset) };
        break;
      }
    }
    if (!here) return clear();
    const items = [];
    // the figure's own hover colours (the page's theme: viz/maps.py sets them)
    const hl = (gd.layout && gd.layout.hoverlabel) || {};
    const bg = hl.bgcolor || "white", border = hl.bordercolor || "#444";
    const ink = (hl.font && hl.font.color) || "#1f1f1f";
    for (const L of layers) {
      const text = L.label(here.x, here.y);
      const xa = fl[L.xname], ya = fl[L.yname];
      if (text === null || !xa || !ya) continue;
      const cx = xa._offset + xa.d2p(here.x), cy = ya._offset + ya.d2p(here.y);
      items.push({ x: cx, y: cy, text, color: bg, borderColor: border,
                   fontColor: ink, fontSize: (hl.font && hl.font.size) || 16 });
    }
    if (!items.length) return clear();
    window.Plotly.Fx.loneHover(items, { gd, container: container(),
                                        outerContainer: fl._paperdiv.node() });
  });
}

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      // relative to the page's directory: works under a base URL path and on every page
      script.src = new URL("app/static/plotly.min.js", document.baseURI).href;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        loading = null;
        reject(new Error("could not load " + script.src));
      };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// ---- Fitting the window's height -------------------------------------------------------------

const MIN_FIT = 320;

function scrollTop(el) {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const y = getComputedStyle(p).overflowY;
    if ((y === "auto" || y === "scroll") && p.scrollHeight > p.clientHeight) {
      return p.scrollTop - p.getBoundingClientRect().top;
    }
  }
  return window.scrollY;
}

// the height for a figure that asks for `want` px (undefined: as much as there is)
function fitted(gd, want) {
  const top = gd.getBoundingClientRect().top + scrollTop(gd);
  const room = Math.max(MIN_FIT, Math.floor(window.innerHeight - top - 12));
  return want ? Math.min(want, room) : room;
}

function refit(gd) {
  if (!gd.__fitWant || !gd._fullLayout || !window.Plotly) return;
  const h = fitted(gd, gd.__fitWant);
  if (Math.abs(h - gd._fullLayout.height) > 8) window.Plotly.relayout(gd, { height: h });
}

export default function (component) {
  const { data, parentElement } = component;
  let gd = parentElement.querySelector(":scope > .conv-plot");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "conv-plot";
    parentElement.appendChild(gd);
    // the column can change width without the window doing so (the sidebar opened or closed)
    let width = 0;
    new ResizeObserver((entries) => {
      const w = Math.round(entries[0].contentRect.width);
      if (w && width && w !== width && window.Plotly && gd._fullLayout) {
        window.Plotly.Plots.resize(gd);
      }
      width = w;
    }).observe(gd);
  }
  // only the newest figure matters: figures that arrive while Plotly is drawing replace each
  // other, and the last one is drawn next; the figure already drawn, sent again by a rerun that
  // changed nothing in it (the link's popover opened or closed), is not drawn again
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (text === gd.__drawn && !gd.__busy) return;
  gd.__next = text;
  if (gd.__busy) return;
  gd.__busy = true;
  const draw = () =>
    loadPlotly()
      .then((Plotly) => {
        const start = performance.now();
        const { spec, layers } = takeHoverLayers(JSON.parse(gd.__next));
        if (spec.fit) {
          gd.__fitWant = spec.layout.height || 0;
          spec.layout = Object.assign({}, spec.layout, { height: fitted(gd, spec.layout.height) });
          if (!gd.__fitBound) {
            gd.__fitBound = true;
            let timer = null;
            window.addEventListener("resize", () => {
              clearTimeout(timer);
              timer = setTimeout(() => (gd.isConnected ? refit(gd) : null), 250);
            });
          }
        }
        gd.__drawn = gd.__next;
        gd.__next = null;
        gd.__hoverLayers = layers;
        if (!gd.__hoverBound) {
          gd.__hoverBound = true;
          bindHover(gd);
        }
        const old = parentElement.querySelector(":scope > .conv-plot-error");
        if (old) old.remove();
        // the time each update takes, for benchmarks (performance.getEntriesByName)
        return Plotly.react(gd, spec.data, spec.layout, spec.config).then(() =>
          performance.measure("conv-plot-react", { start }));
      })
      .then(
        () => (gd.__next !== null ? draw() : (gd.__busy = false)),
        (err) => {
          gd.__busy = false;
          const note = document.createElement("p");
          note.className = "conv-plot-error";
          note.textContent = "The figure could not be drawn: " + err.message;
          parentElement.appendChild(note);
        },
      );
  draw();
}
