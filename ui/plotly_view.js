// A Plotly figure that stays on the page and is updated in place (Plotly.react).
//
// Streamlit's st.plotly_chart gives a chart a new identity whenever its figure changes, so the
// browser throws the old plot away and builds a new one (and then draws it a second time, when
// Streamlit applies its theme to the new chart). Here the plot lives as long as the element: a
// new figure is handed to Plotly.react, which redraws only what changed and keeps the user's
// zoom (layout.uirevision). plotly.js is the copy shipped in static/ (served by Streamlit's
// static file serving), loaded once per browser tab.
//
// data: UTF-8 bytes of {"config": {...}, "data": [...], "layout": {...}}.

let loading = null;

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
  // other, and the last one is drawn next
  gd.__next = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (gd.__busy) return;
  gd.__busy = true;
  const draw = () =>
    loadPlotly()
      .then((Plotly) => {
        const start = performance.now();
        const spec = JSON.parse(gd.__next);
        gd.__next = null;
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
