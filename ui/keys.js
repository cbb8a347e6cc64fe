// Presenter keys: the keyboard, and a presentation clicker, drive the page's animations.
//
//   → or PageDown   one step forward       ← or PageUp   one step back
//   Space           play / pause           Home / End    first / last step
//   "." and "b"     play / pause (the third button of many clickers sends one of them)
//
// Clickers send PageDown / PageUp (some send → / ←). The keys act only when no text field,
// slider, table or dialog has the focus, and only when an animation is on the screen (else the
// key keeps its usual meaning: PageDown scrolls a page with no animation in view). The
// animation driven is the one last touched with the pointer, else the first one on the screen.
//
// Everything happens in the browser, through the animation's own controls: its buttons (found by
// their labels) or, when it has no such button, its slider. Nothing is sent to the server for a
// key; the frame an animation settles on (after a step, a pause, the end of a play, a slider
// drag; whatever moved it) is reported as the trigger "step" = {target, frame}, so that the page
// can keep it in its link. Nothing is reported while an animation plays, nor a frame the server
// drew itself (the figure's layout.meta.start).
//
// It can also measure the room a figure has (data.fit: a selector): the width of that element
// and the height of the window below its top (at least 60% of the window: on a phone the
// figure comes after the controls), rounded down to steps of 8%, reported as the trigger
// "screen" = {width, height} when it changes (a new window size, the sidebar opened, a phone
// turned), so that the server lays the figure out for it (viz.animation.fit_look).
//
// data (JSON text): {hint: "...", fit: "<selector>" or null, targets: [{name, selector,
//                    report, buttons: {next, prev, first, last, play, pause}, playing: [labels]}]}
// `selector`: an element holding the Plotly chart (e.g. ".st-key-sw-figure"); `buttons`: the
// labels of the figure's own buttons for each action (missing: the slider does it); `playing`:
// the labels of every button that starts playback; `report`: whether to report frames.

const KEYS = {
  ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev",
  " ": "toggle", Spacebar: "toggle", ".": "toggle", b: "toggle", B: "toggle",
  Home: "first", End: "last",
};
const REPORT_MS = 350;  // a frame is reported once the animation rests this long on it
const WIRE_MS = 1000;   // how often charts drawn anew (a rerun) are looked for

const registry = window.__convKeys || (window.__convKeys = { roots: new Set(), last: null });

// focus where a key means something else: typing, a slider, a table, a menu, a dialog
function busy(el) {
  if (!el || el === document.body || el === document.documentElement) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    return !["button", "checkbox", "radio", "submit", "reset", "color", "file"].includes(el.type);
  }
  const role = el.getAttribute && el.getAttribute("role");
  if (["slider", "textbox", "combobox", "spinbutton", "listbox", "option", "menu",
       "menuitem", "grid", "gridcell", "tab"].includes(role)) return true;
  return !!(el.closest && el.closest(
    '[role="dialog"], [data-testid="stDataFrame"], [data-testid="stDataEditor"], ' +
    '[data-baseweb="popover"], [data-testid="stCode"]'));
}

function targets() {
  const out = [];
  for (const root of Array.from(registry.roots)) {
    if (!root.isConnected) {
      registry.roots.delete(root);
      continue;
    }
    for (const t of root.__config.targets || []) {
      const box = document.querySelector(t.selector);
      const gd = box && box.querySelector(".js-plotly-plot");
      if (gd && gd._fullLayout) out.push({ root, t, gd });
    }
  }
  return out;
}

function onScreen(gd) {
  const r = gd.getBoundingClientRect();
  return r.width > 0 && r.bottom > 48 && r.top < window.innerHeight - 48;
}

// the animation the keys drive: the last one touched if it is on the screen, else the first
function chosen() {
  const shown = targets().filter((c) => onScreen(c.gd));
  return shown.find((c) => c.gd === registry.last) || shown[0] || null;
}

function press(gd, label) {
  if (!label) return false;
  const button = Array.from(gd.querySelectorAll("g.updatemenu-button"))
    .find((g) => g.textContent.trim() === label);
  if (!button) return false;
  button.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
  return true;
}

// move the slider one position (or to an end) as a click on its rail would
function slide(gd, action) {
  const opts = gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  const group = gd.querySelector("g.slider-group");
  const rail = group && group.querySelector("rect.slider-rail-touch-rect");
  const ticks = group ? group.querySelectorAll("rect.slider-tick-rect") : [];
  if (!opts || !rail || !ticks.length) return false;
  const n = ticks.length, now = Math.min(Math.max(opts.active || 0, 0), n - 1);
  const k = { next: Math.min(now + 1, n - 1), prev: Math.max(now - 1, 0), first: 0,
              last: n - 1 }[action];
  if (k === undefined || k === now) return k !== undefined;
  const tick = ticks[k].getBoundingClientRect(), box = rail.getBoundingClientRect();
  const at = { bubbles: true, cancelable: true, view: window, button: 0,
               clientX: tick.left + tick.width / 2, clientY: box.top + box.height / 2 };
  rail.dispatchEvent(new MouseEvent("mousedown", at));
  gd.dispatchEvent(new MouseEvent("mouseup", at));
  return true;
}

function act(c, action) {
  const b = c.t.buttons || {};
  if (action === "toggle") {
    if (c.gd.__convPlaying) return press(c.gd, b.pause);
    return press(c.gd, b.play);
  }
  return press(c.gd, b[action]) || slide(c.gd, action);
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.isComposing) return;
  const action = KEYS[ev.key];
  if (!action || busy(ev.target) || busy(document.activeElement)) return;
  const c = chosen();
  if (!c) return;
  wire(c.root, c.t, c.gd);
  if (!act(c, action)) return;
  ev.preventDefault();  // no scrolling, and a focused button is not pressed by Space
  const focus = document.activeElement;
  if (focus && focus !== document.body && focus.blur) focus.blur();
}

// ---- what each animation does, whoever moved it (keys, buttons, slider) --------------------

function report(root, t, gd) {
  clearTimeout(gd.__convTimer);
  gd.__convTimer = setTimeout(() => {
    if (gd.__convPlaying || !gd.isConnected || gd.__convFrame === undefined) return;
    const meta = (gd.layout && gd.layout.meta) || {};
    if (gd.__convStart !== meta.start) {  // a figure the server drew: it knows its own start
      gd.__convStart = meta.start;
      gd.__convSent = String(meta.start);
    }
    if (gd.__convFrame === gd.__convSent) return;
    gd.__convSent = gd.__convFrame;
    if (root.isConnected && root.__send) root.__send("step", { target: t.name, frame: gd.__convFrame });
  }, REPORT_MS);
}

function wire(root, t, gd) {
  // once per event emitter: Plotly.newPlot on the same element (purge) drops the listeners
  // with its emitter, Plotly.react keeps both
  const id = root.__id + "/" + t.name;
  if ((gd.__convWired === id && gd.__convEv === gd._ev) || typeof gd.on !== "function") return;
  gd.__convWired = id;
  gd.__convEv = gd._ev;
  const meta = (gd.layout && gd.layout.meta) || {};
  gd.__convStart = meta.start;
  gd.__convSent = String(meta.start);
  const playing = new Set(t.playing || []);
  gd.on("plotly_buttonclicked", (e) => {
    const label = e && e.button && e.button.label;
    gd.__convPlaying = playing.has(label);
    if (!gd.__convPlaying && t.report) report(root, t, gd);
  });
  gd.on("plotly_animatingframe", (e) => {
    if (!e || e.name === undefined || e.name === null || e.name === "") return;
    gd.__convFrame = String(e.name);
    if (!gd.__convPlaying && t.report) report(root, t, gd);
  });
  gd.on("plotly_animated", () => {
    gd.__convPlaying = false;
    if (t.report) report(root, t, gd);
  });
  gd.on("plotly_sliderstart", () => { gd.__convPlaying = false; });
  if (!gd.__convPointer) {  // a DOM listener: it survives a purge
    gd.__convPointer = true;
    gd.addEventListener("pointerdown", () => { registry.last = gd; }, true);
  }
}

function wireAll() {
  for (const c of targets()) wire(c.root, c.t, c.gd);
}

// ---- the room a figure has ------------------------------------------------------------------

const STEP = Math.log(1.08);
const bucket = (v) => Math.floor(Math.exp(Math.floor(Math.log(Math.max(v, 1)) / STEP) * STEP));

function scroller(el) {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const y = getComputedStyle(p).overflowY;
    if ((y === "auto" || y === "scroll") && p.scrollHeight > p.clientHeight) return p;
  }
  return null;
}

function measure(root) {
  const sel = root.__config.fit;
  const box = sel && document.querySelector(sel);
  if (!box || !root.isConnected) return;
  const r = box.getBoundingClientRect();
  if (r.width < 50) return;  // not laid out (a hidden tab)
  const s = scroller(box);
  const top = r.top + (s ? s.scrollTop - s.getBoundingClientRect().top : window.scrollY);
  const h = window.innerHeight;
  const size = { width: bucket(r.width), height: bucket(Math.max(h - top - 8, 0.45 * h)) };
  const text = size.width + "x" + size.height;
  if (text === root.__fitSent) return;
  root.__fitSent = text;
  if (root.__send) root.__send("screen", size);
}

function watch(root) {
  if (root.__fitWatch || !root.__config.fit) return;
  const later = () => {
    clearTimeout(root.__fitTimer);
    root.__fitTimer = setTimeout(() => measure(root), 300);
  };
  root.__fitWatch = later;
  window.addEventListener("resize", later);
  const box = document.querySelector(root.__config.fit);
  if (box) new ResizeObserver(later).observe(box.parentElement || box);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(":scope > .conv-keys");
  if (!root) {
    root = document.createElement("p");
    root.className = "conv-keys";
    root.__id = Math.random().toString(36).slice(2);
    parentElement.appendChild(root);
  }
  root.__send = setTriggerValue;
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (root.__text !== text) {
    root.__text = text;
    root.__config = JSON.parse(text);
    root.textContent = root.__config.hint || "";
    root.__fitSent = root.__config.sent || null;  // the size the server laid the figure out for
  }
  registry.roots.add(root);
  if (!registry.installed) {
    registry.installed = true;
    window.addEventListener("keydown", onKey, true);  // first: before a focused control
    setInterval(wireAll, WIRE_MS);
  }
  wireAll();
  if (root.__config.fit) {
    watch(root);
    measure(root);
  }
}
