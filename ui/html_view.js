// HTML of the app's own making, shown in place and updated by changing only what changed.
//
// st.html sanitises its HTML on every update and its element is redrawn whole: every picture
// in it decoded again. Here a new text is parsed once (in an inert template: nothing loads),
// and only the nodes whose HTML differs from what is shown are replaced, so the pictures that
// did not change (the input's card when only the layer changed) stay as they are.
//
// data: the HTML as UTF-8 bytes. Only for HTML the app builds, with every text it did not
// write itself escaped: nothing here is sanitised.

function same(a, b) {
  if (a.nodeType !== b.nodeType) return false;
  return a.nodeType === Node.ELEMENT_NODE ? a.outerHTML === b.outerHTML
                                          : a.nodeValue === b.nodeValue;
}

function sameAttributes(a, b) {
  if (a.tagName !== b.tagName || a.attributes.length !== b.attributes.length) return false;
  for (const { name, value } of a.attributes) {
    if (b.getAttribute(name) !== value) return false;
  }
  return true;
}

// make the children of `into` those of `from`, keeping the nodes that are already right
function patch(into, from) {
  const next = Array.from(from.childNodes), old = Array.from(into.childNodes);
  if (next.length !== old.length) {
    into.replaceChildren(...next);
    return;
  }
  next.forEach((n, i) => {
    const o = old[i];
    if (same(o, n)) return;
    if (o.nodeType === Node.ELEMENT_NODE && n.nodeType === Node.ELEMENT_NODE &&
        sameAttributes(o, n) && o.tagName !== "IMG") {
      patch(o, n);
    } else {
      o.replaceWith(n);
    }
  });
}

export default function (component) {
  const { data, parentElement } = component;
  let box = parentElement.querySelector(":scope > .conv-html");
  if (!box) {
    box = document.createElement("div");
    box.className = "conv-html";
    parentElement.appendChild(box);
  }
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (box.__text === text) return;
  box.__text = text;
  const template = document.createElement("template");
  template.innerHTML = text;
  patch(box, template.content);
}
