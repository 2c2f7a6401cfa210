/**
 * @module DOM building for the console: elements from a tag, attributes and children, text
 * always through text nodes. Nothing here takes HTML, so data from a journal can never become
 * markup (the page's CSP forbids inline scripts too, but this keeps injection out entirely).
 */

/** What an element may hold: nodes, text (numbers as text), or nothing. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes: strings and numbers set as is, `true` as an empty attribute, `on…` as listeners. */
export type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** An element `tag` with `attrs` and `children` (arrays are flattened). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, ...children);
  return el;
}

/** Appends children (skipping empty ones) to `el`. */
export function append(el: Node, ...children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces every child of `el`. */
export function replace(el: Node, ...children: (Child | Child[])[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, ...children);
}

/** A table with a header row and body rows (or a body to fill later). */
export function table(
  headers: string[],
  rows: HTMLTableRowElement[] | HTMLTableSectionElement,
  attrs: Attrs = {},
): HTMLTableElement {
  return h(
    "table",
    { class: "grid", ...attrs },
    h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", { scope: "col" }, t)))),
    Array.isArray(rows) ? h("tbody", {}, ...rows) : rows,
  );
}

/** A hash or id shortened for a table, the whole value in its tooltip. */
export function short(hex: string | null | undefined, n = 12): HTMLElement {
  if (hex === null || hex === undefined) return h("span", { class: "muted" }, "—");
  // Every hash names its algorithm; the digits are what tell two apart.
  const digits = hex.replace(/^sha256:/, "");
  return h("code", { title: hex }, digits.length > n + 1 ? `${digits.slice(0, n)}…` : digits);
}

/** A small coloured label: `ok`, `fault`, `warn` or `info`. */
export function badge(text: string, tone: "ok" | "fault" | "warn" | "info"): HTMLElement {
  return h("span", { class: `badge ${tone}` }, text);
}

/** JSON in a preformatted block. */
export function jsonBlock(value: unknown): HTMLElement {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
