// Pure helpers: code-point offsets, safe DOM building, citations. No network, no page state.
//
// The API counts offsets in Unicode code points (Python string indices); JavaScript strings are
// indexed in UTF-16 code units, so a character outside the Basic Multilingual Plane (an emoji, say)
// is one code point but two code units. Every offset from the API goes through unitOffsets().

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

/** Length of `text` in code points (what the API calls its length). */
export function codePointLength(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

/** UTF-16 indices of the code-point `offsets` into `text`, in one pass; RangeError past the end. */
export function unitOffsets(text, offsets) {
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const found = new Map();
  let unit = 0;
  let point = 0;
  for (const target of wanted) {
    if (!Number.isInteger(target) || target < 0) throw new RangeError(`bad offset ${target}`);
    while (point < target && unit < text.length) {
      const pair = isHigh(text.charCodeAt(unit)) && unit + 1 < text.length && isLow(text.charCodeAt(unit + 1));
      unit += pair ? 2 : 1;
      point++;
    }
    if (point !== target) throw new RangeError(`offset ${target} is past the end (${point} code points)`);
    found.set(target, unit);
  }
  return offsets.map((o) => found.get(o));
}

/** `text[start:end]` with code-point offsets, as Python slices it. */
export function sliceCodePoints(text, start, end) {
  const [a, b] = unitOffsets(text, [start, end]);
  return text.slice(a, b);
}

/**
 * Build an element. Children that are strings become text nodes (never parsed as HTML);
 * attributes are set with setAttribute, and `on*` attributes are refused.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`refusing event attribute ${name}`);
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return node;
}

/** The URL when it is a plain http(s) address (never javascript:, data:, ...), else null. */
export function safeUrl(url) {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url)) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** "Title § Section § Subsection" (the API's citation label). */
export function label(title, section) {
  return [title, ...(section || [])].join(" § ");
}

/**
 * A ready-to-paste reference: quote, title § section, document id, code-point offsets, and the
 * document's URL when it has an http(s) one.
 */
export function citationText({ quote, title, section, doc_id: docId, start, end, url }) {
  const where = `${label(title, section)} (${docId}, characters ${start}–${end})`;
  const link = safeUrl(url);
  return `“${quote}” — ${where}.${link ? ` ${link}` : ""}`;
}

/**
 * Cut `text` (code-point offsets `marks` [{start, end, ...}], non-overlapping after sorting) into
 * plain runs and marked runs: [{text, mark|null}]. Overlapping or out-of-range marks are skipped.
 */
export function splitMarked(text, marks) {
  const total = codePointLength(text);
  const kept = [];
  let last = 0;
  for (const m of [...marks].sort((a, b) => a.start - b.start)) {
    if (m.start < last || m.end < m.start || m.end > total) continue;
    kept.push(m);
    last = m.end;
  }
  const cuts = unitOffsets(text, [0, ...kept.flatMap((m) => [m.start, m.end]), total]);
  const runs = [];
  for (let i = 0; i <= kept.length; i++) {
    const before = text.slice(cuts[2 * i], cuts[2 * i + 1]);
    if (before) runs.push({ text: before, mark: null });
    if (i < kept.length) runs.push({ text: text.slice(cuts[2 * i + 1], cuts[2 * i + 2]), mark: kept[i] });
  }
  return runs;
}
