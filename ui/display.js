// Reruns the page when its theme differs from the one its figures were built for.
//
// Figures are coloured on the server for the theme that Streamlit reports with each rerun
// (st.context.theme.type). A theme changed in the settings menu (or the browser's preference)
// does not rerun the page, and a session's first run may not know the theme yet: this compares
// the page's background with `data` (the theme the server used) whenever an ancestor's class
// or style changes (that is how a new theme arrives), and sends the actual theme once, which
// reruns the page with it.
//
// data: "light" or "dark".

function luminance(colour) {
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/.exec(colour || "");
  if (!m) return null;
  if (m[4] !== undefined && Number(m[4]) === 0) return null; // transparent: look further up
  return (0.299 * Number(m[1]) + 0.587 * Number(m[2]) + 0.114 * Number(m[3])) / 255;
}

// "dark" or "light" from the theme's background colour (Streamlit's CSS variable, else the
// first opaque background among the ancestors)
function actual(el) {
  const probe = document.createElement("span");
  probe.style.color = (getComputedStyle(el).getPropertyValue("--st-background-color") || "").trim();
  let l = null;
  if (probe.style.color) {
    el.appendChild(probe);
    l = luminance(getComputedStyle(probe).color);
    probe.remove();
  }
  for (let e = el; l === null && e; e = e.parentElement) {
    l = luminance(getComputedStyle(e).backgroundColor);
  }
  if (l === null) return null;
  return l < 0.5 ? "dark" : "light";
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement;
  root.__known = String(data || "light");
  root.__send = setTriggerValue;
  const check = () => {
    const now = actual(root);
    if (!now || now === root.__known) {
      root.__sent = null;
      return;
    }
    if (now === root.__sent) return; // asked once already: no loop if the server disagrees
    root.__sent = now;
    root.__send("theme", now);
  };
  if (!root.__observer) {
    let pending = false;
    root.__observer = new MutationObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        check();
      });
    });
    // the ancestors only (a theme changes their classes and styles); not the page's subtree,
    // whose figures change attributes on every animation frame
    for (let e = root.parentElement; e; e = e.parentElement) {
      root.__observer.observe(e, { attributes: true, attributeFilter: ["class", "style"] });
    }
    const media = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
    if (media && media.addEventListener) media.addEventListener("change", () => setTimeout(check, 50));
  }
  requestAnimationFrame(check);
}
