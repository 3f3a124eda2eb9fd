// The document view: full source text with the cited span marked by its API offsets, and an outline.
import { codePointLength, el, label, safeUrl, unitOffsets } from "./text.js";

const HEADING_LINE = /^(=+[^=\n].*=+|#{1,6}[ \t].*)[ \t]*$/;

/** Where each section's heading line ends (code points), or null when the section has none. */
function headingEnds(text, sections) {
  const starts = sections.map((s) => s.start);
  const units = unitOffsets(text, starts);
  return sections.map((section, i) => {
    const from = units[i];
    const nl = text.indexOf("\n", from);
    const line = text.slice(from, nl === -1 ? text.length : nl);
    if (!HEADING_LINE.test(line)) return null;
    return section.start + codePointLength(line);
  });
}

/**
 * The document text as DOM: text nodes, section anchors, heading lines, and one <mark> holding
 * exactly text[start:end] (code points) when `span` is given. Never parses the text as HTML.
 */
export function documentBody(text, sections, span) {
  const total = codePointLength(text);
  const ends = headingEnds(text, sections);
  const headings = sections.map((s, i) => [s.start, ends[i]]).filter(([, e]) => e !== null && e > 0);
  const hasSpan = span && span.start <= span.end && span.end <= total;
  const cutSet = new Set([0, total, ...sections.map((s) => s.start), ...headings.flat()]);
  if (hasSpan) cutSet.add(span.start).add(span.end);
  const cuts = [...cutSet].filter((c) => c >= 0 && c <= total).sort((a, b) => a - b);
  const units = unitOffsets(text, cuts);
  const body = el("div", { class: "doctext", id: "doctext", tabindex: "0", "aria-label": "Document text" });
  let mark = null;
  const inside = (a) => hasSpan && a > span.start && a < span.end;
  for (let i = 0; i < cuts.length; i++) {
    const a = cuts[i];
    sections.forEach((s, k) => {
      if (s.start === a) (inside(a) ? mark : body).append(el("span", { class: "anchor", id: `sec-${k}` }));
    });
    if (hasSpan && a === span.start) {
      mark = el("mark", { id: "cited", tabindex: "-1" });
      body.append(mark);
    }
    if (i === cuts.length - 1) break;
    const piece = text.slice(units[i], units[i + 1]);
    const parent = hasSpan && a >= span.start && cuts[i + 1] <= span.end && span.start < span.end ? mark : body;
    const heading = headings.some(([hs, he]) => a >= hs && cuts[i + 1] <= he);
    parent.append(heading ? el("span", { class: "heading" }, piece) : document.createTextNode(piece));
  }
  return { body, mark };
}

function sectionIndexAt(sections, offset) {
  let found = -1;
  sections.forEach((s, i) => {
    if (s.start <= offset && offset < s.end) found = i;
  });
  return found;
}

/** The outline: one button per section, indented by depth; the section of the span is current. */
function outline(doc, current, body) {
  const items = doc.sections.map((s, i) => {
    const name = s.path.length ? s.title : "Introduction";
    const button = el("button", { type: "button", class: `depth-${Math.min(s.path.length, 4)}`,
                                  "aria-current": i === current ? "true" : null }, name);
    button.addEventListener("click", () => {
      const anchor = body.querySelector(`#sec-${i}`);
      if (anchor) anchor.scrollIntoView({ block: "start", behavior: "smooth" });
    });
    return el("li", {}, button);
  });
  return el("nav", { class: "outline", "aria-label": "Sections" }, el("h3", {}, "Sections"), el("ol", {}, items));
}

/**
 * Render `doc` (GET /v1/documents/{id}) into `view`, marking `span` ({start, end, label?} or null).
 * `actions` = {close(), copy(text, button)}. Returns the <mark> (or null) so the caller can scroll.
 */
export function renderDocument(view, doc, span, actions, problem) {
  const total = codePointLength(doc.text);
  const valid = span && Number.isInteger(span.start) && Number.isInteger(span.end)
    && span.start >= 0 && span.start <= span.end && span.end <= total;
  const { body, mark } = documentBody(doc.text, doc.sections, valid ? span : null);
  const current = valid ? sectionIndexAt(doc.sections, span.start) : -1;
  const close = el("button", { type: "button", class: "close", "aria-label": "Close the document" }, "← Results");
  close.addEventListener("click", actions.close);
  const head = el("header", { class: "dochead" }, close,
    el("h2", { id: "doc-title", tabindex: "-1" }, doc.title));
  const link = safeUrl(doc.url);
  const meta = el("p", { class: "docmeta" }, `${doc.doc_id} · ${total.toLocaleString("en")} characters`,
    link ? [" · ", el("a", { href: link, rel: "noopener noreferrer", target: "_blank" }, "source ↗")] : null);
  head.append(meta);
  if (valid) {
    const quote = mark ? mark.textContent : "";
    const section = current >= 0 ? doc.sections[current].path : [];
    const where = span.label || label(doc.title, section);
    const copy = el("button", { type: "button", class: "copy" }, "Copy citation");
    copy.addEventListener("click", () => actions.copy({ quote, title: doc.title, section, doc_id: doc.doc_id,
                                                        start: span.start, end: span.end, url: doc.url }, copy));
    head.append(el("div", { class: "selection" },
      el("p", {}, el("span", { class: "cite-label", id: "span-label" }, where),
        el("span", { class: "offsets" }, ` characters ${span.start}–${span.end}`)), copy));
  } else if (span) {
    problem = problem || `The link's span ${span.start}–${span.end} is not inside this document (${total} characters).`;
  }
  if (problem) head.append(el("p", { class: "warning", role: "alert" }, problem));
  view.replaceChildren(head, el("div", { class: "docbody" }, outline(doc, current, body), body));
  return mark;
}
