// The page: ask / check a claim, show evidence, open cited spans; all state lives in the URL.
import { renderDocument } from "./docview.js";
import { citationText, codePointLength, el, splitMarked } from "./text.js";

const $ = (id) => document.getElementById(id);
const form = $("form");
const input = $("q");
const results = $("results");
const docview = $("docview");
const statusLine = $("status");
const docs = new Map(); // doc_id -> GET /v1/documents/{id}
let shown = { mode: null, q: null }; // the query whose results are on screen
let requestSeq = 0;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Call the API; retries while the index is still loading (503 not_ready), else throws ApiError. */
async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network", "the server did not answer: is it running?");
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return data;
    const error = data && data.error ? data.error : { code: "http", message: `HTTP ${response.status}` };
    if (response.status === 503 && error.code === "not_ready" && attempt < 60) {
      say("The index is still loading…");
      await sleep(1000);
      continue;
    }
    throw new ApiError(response.status, error.code, error.message);
  }
}

function say(text) {
  statusLine.textContent = text;
}

// -- URL state ---------------------------------------------------------------------------------
function readUrl() {
  const p = new URLSearchParams(location.search);
  const mode = p.get("mode") === "claim" ? "claim" : "ask";
  const doc = p.get("doc");
  const int = (v) => (v !== null && /^\d+$/.test(v) ? Number(v) : null);
  const start = int(p.get("s"));
  const end = int(p.get("e"));
  return { mode, q: (p.get("q") || "").trim(), doc: doc ? { doc_id: doc, start, end } : null };
}

function urlFor({ mode, q, doc }) {
  const p = new URLSearchParams();
  if (q) p.set("q", q);
  if (q && mode === "claim") p.set("mode", "claim");
  if (doc) {
    p.set("doc", doc.doc_id);
    if (doc.start !== null && doc.end !== null) {
      p.set("s", String(doc.start));
      p.set("e", String(doc.end));
    }
  }
  const query = p.toString();
  return query ? `?${query}` : location.pathname;
}

function navigate(next) {
  history.pushState(null, "", urlFor(next));
  return show(next);
}

// -- citations ---------------------------------------------------------------------------------
async function copy(cite, button) {
  const text = citationText(cite);
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const area = el("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    ok = document.execCommand("copy");
    area.remove();
  }
  button.dataset.copied = text;
  const old = button.textContent;
  button.textContent = ok ? "Copied ✓" : "Copy failed";
  say(ok ? `Copied: ${text}` : `Copy failed; the citation is: ${text}`);
  setTimeout(() => { button.textContent = old; }, 1800);
}

/** A link that opens a cited span in the document view (and is itself the span's permalink). */
function spanLink(cls, span, children) {
  const target = { mode: shown.mode, q: shown.q, doc: { doc_id: span.doc_id, start: span.start, end: span.end } };
  const a = el("a", { class: cls, href: urlFor(target), "data-doc": span.doc_id, "data-start": span.start,
                      "data-end": span.end }, children);
  a.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(target);
  });
  return a;
}

function copyButton(cite) {
  const button = el("button", { type: "button", class: "copy" }, "Copy citation");
  button.addEventListener("click", () => copy(cite, button));
  return button;
}

const fromCitation = (c, quote) => ({ quote, title: c.title, section: c.section, doc_id: c.doc_id,
                                      start: c.start, end: c.end, url: c.url });

/** A passage: its label, its text with the highlighted sentences as links to their spans. */
function passageCard(p) {
  const runs = splitMarked(p.text, p.highlights.map((h) => ({ ...h, start: h.start - p.start, end: h.end - p.start })));
  const text = el("p", { class: "ptext" }, runs.map((run) => (run.mark
    ? spanLink("hl", { doc_id: p.doc_id, start: run.mark.start + p.start, end: run.mark.end + p.start },
               el("mark", {}, run.text))
    : run.text)));
  return el("li", { class: "card passage", "data-chunk": p.chunk_id },
    el("header", {}, spanLink("cite", p.citation, p.citation.label),
      el("span", { class: "score", title: "retrieval score" }, `score ${p.score.toFixed(2)}`)),
    text,
    el("footer", {}, copyButton(fromCitation(p.citation, p.text))));
}

function passageList(title, passages, extra = "") {
  if (!passages.length) return [];
  return [el("h2", { class: "list-title" }, title),
          el("ol", { class: `passages ${extra}`.trim() }, passages.map(passageCard))];
}

/** The answer sentence, its short answer (the date or figure asked for) in bold. */
function answerRuns(a) {
  if (!a.short) return a.text;
  const short = { start: a.short.start - a.start, end: a.short.end - a.start };
  return splitMarked(a.text, [short]).map((run) => (run.mark ? el("strong", {}, run.text) : run.text));
}

function renderAsk(data) {
  const parts = [];
  if (data.answerable && data.answer) {
    const a = data.answer;
    const pct = Math.round(a.confidence * 100);
    parts.push(el("section", { class: "card answer", "aria-labelledby": "answer-title" },
      el("h2", { id: "answer-title" }, "Answer"),
      a.short ? el("p", { class: "short" }, el("strong", {}, a.short.text)) : null,
      el("blockquote", {}, spanLink("hl", a, el("mark", {}, answerRuns(a)))),
      el("p", { class: "meta" },
        el("span", { class: "confidence" }, "confidence ",
          el("meter", { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 1, value: a.confidence }), ` ${pct}%`),
        spanLink("cite", a.citation, a.citation.label)),
      el("footer", {}, copyButton(fromCitation(a.citation, a.text)))));
    parts.push(...passageList("Evidence", data.passages));
  } else {
    const threshold = +(data.min_confidence * 100).toFixed(1);  // 18.5, not a rounded 19
    const closest = el("button", { type: "button", class: "closest" }, "Show the closest sentence anyway");
    const card = el("section", { class: "card abstain", "aria-labelledby": "answer-title" },
      el("h2", { id: "answer-title" }, "Not in the corpus"),
      el("p", {}, `No sentence answers this question with a confidence of ${threshold}% or more, so none is given.`),
      el("footer", {}, closest));
    closest.addEventListener("click", () => showClosest(data.question, card, closest));
    parts.push(card);
    parts.push(...passageList("Nearest passages (not evidence of an answer)", data.passages, "weak"));
  }
  return parts;
}

/** The sentence the service would have answered with, clearly marked as below its threshold. */
async function showClosest(question, card, button) {
  button.disabled = true;
  try {
    const data = await api("/v1/ask", { question, min_confidence: 0 });
    const a = data.answer;
    button.replaceWith(a
      ? el("div", { class: "closest" },
        el("p", { class: "warning" }, `Closest sentence, confidence ${Math.round(a.confidence * 100)}%: `
          + "not an answer the corpus clearly supports. Read it in its passage before using it."),
        el("blockquote", {}, spanLink("hl", a, el("mark", {}, a.text))),
        el("p", { class: "meta" }, spanLink("cite", a.citation, a.citation.label)))
      : el("p", { class: "muted" }, "No sentence of the corpus comes close."));
  } catch (error) {
    button.replaceWith(el("p", { class: "warning", role: "alert" }, error.message));
  }
  card.focus?.();
}

function matchCard(m) {
  const conflicts = m.conflicts.length
    ? el("ul", { class: "conflicts" }, m.conflicts.map((c) => el("li", {}, "the claim says ", el("strong", {}, c.claim),
                                                                  ", the source says ", el("strong", {}, c.source))))
    : null;
  return el("li", { class: "card match" },
    el("header", {}, el("span", { class: `badge ${m.match}` }, m.match), spanLink("cite", m.citation, m.citation.label),
      el("span", { class: "score" }, `score ${m.score.toFixed(2)}`)),
    el("blockquote", {}, spanLink("hl", m, el("mark", {}, m.text))),
    conflicts ? el("p", { class: "conflict-title" }, "Conflicting details:") : null, conflicts,
    m.missing.length
      ? el("p", { class: "missing" }, "Not stated in this sentence: ",
        ...m.missing.map((w, i) => [i ? ", " : "", el("strong", {}, w)]).flat())
      : null,
    el("footer", {}, copyButton(fromCitation(m.citation, m.text))));
}

function renderClaim(data) {
  const conflicted = data.matches.some((m) => m.conflicts.length);
  const lacking = data.matches.length && data.matches[0].missing.length;
  const verdict = data.supported
    ? ["supported", "Stated in the corpus", "The best match below states the claim; check its wording."]
    : ["unsupported", "Not found as stated",
      conflicted ? "The closest statements disagree on some details (flagged below)."
        : lacking ? "The closest statement leaves some of the claim's names, dates or numbers unstated (listed below)."
          : "The corpus has no statement of this claim; the closest statements are below."];
  return [
    el("section", { class: `card verdict ${verdict[0]}`, "aria-labelledby": "answer-title" },
      el("h2", { id: "answer-title" }, verdict[1]), el("p", {}, verdict[2])),
    ...(data.matches.length
      ? [el("h2", { class: "list-title" }, "Matches"), el("ol", { class: "passages" }, data.matches.map(matchCard))]
      : []),
  ];
}

/** A text of several sentences, checked one sentence at a time (POST /v1/verify). */
function renderVerify(data) {
  const n = data.statements.length;
  const summary = el("section", { class: `card verdict ${data.unsupported ? "unsupported" : "supported"}`,
    "aria-labelledby": "answer-title" },
  el("h2", { id: "answer-title" }, `${data.supported} of ${n} sentence${n === 1 ? "" : "s"} stated in the corpus`),
  el("p", {}, "Each sentence was looked up on its own; under it, the closest statement in the corpus."));
  const verdict = (x) => el("span", { class: "verdict-word" }, x.supported ? "Stated" : "Not found as stated");
  // a sentence that joins facts is checked clause by clause: each clause with its closest statement
  const parts = (st) => el("ol", { class: "parts" }, ...st.parts.map((p) => el("li",
    { class: `statement ${p.supported ? "supported" : "unsupported"}` },
    el("p", { class: "said" }, verdict(p), " ", p.text),
    p.matches.length ? el("ol", { class: "passages" }, matchCard(p.matches[0])) : null)));
  const items = data.statements.map((st) => el("li", { class: `statement ${st.supported ? "supported" : "unsupported"}` },
    el("p", { class: "said" }, verdict(st), " ", st.text),
    st.parts.length ? el("p", { class: "muted" }, `Checked in ${st.parts.length} parts:`) : null,
    st.parts.length ? parts(st)
      : st.matches.length ? el("ol", { class: "passages" }, matchCard(st.matches[0])) : null));
  return [summary, el("h2", { class: "list-title" }, "Sentences"), el("ol", { class: "statements" }, items)];
}

/** Whether a claim holds more than one sentence, so that each is checked on its own. */
const severalSentences = (text) => /[.!?]["'”’)\]]*\s+\S/.test(text.trim());

/** The start screen: the documents in the corpus, each opening the document view. */
async function renderHome() {
  results.replaceChildren(el("p", { class: "muted" }, "Loading the document list…"));
  try {
    const data = await api("/v1/documents");
    const items = data.documents.map((d) => el("li", {},
      spanLink("doclink", { doc_id: d.doc_id, start: null, end: null }, d.title),
      el("span", { class: "muted" }, ` · ${d.sections.length} sections · ${d.chars.toLocaleString("en")} characters`)));
    results.replaceChildren(el("section", { class: "card intro" },
      el("h2", {}, "Ask the corpus"),
      el("p", {}, "Answers quote the source exactly. Click a citation to read it in its document, "
        + "copy a ready-to-paste reference, or share the page address to reopen the same view."),
      el("h3", {}, `${data.total} document${data.total === 1 ? "" : "s"}`),
      el("ul", { class: "doclist" }, items),
      ...(data.next_offset !== null
        ? [el("p", { class: "muted" }, `The first ${data.documents.length} by id; ask a question to search them all.`)]
        : [])));
  } catch (error) {
    results.replaceChildren(el("p", { class: "warning", role: "alert" }, error.message));
  }
}

async function runQuery(mode, q) {
  const seq = ++requestSeq;
  shown = { mode, q };
  results.setAttribute("aria-busy", "true");
  say(mode === "claim" ? "Checking the claim…" : "Searching the corpus…");
  try {
    let several = mode === "claim" && severalSentences(q);
    let data = several ? await api("/v1/verify", { text: q })
      : mode === "claim" ? await api("/v1/locate", { claim: q }) : await api("/v1/ask", { question: q });
    if (mode === "claim" && !several && data.parts.length) {
      // a claim that joins facts was looked up clause by clause: shown as a one-sentence check
      several = true;
      data = { statements: [{ ...data, text: q, start: 0, end: q.length, markers: [], cited: null }],
        supported: data.supported ? 1 : 0, unsupported: data.supported ? 0 : 1 };
    }
    if (seq !== requestSeq) return;
    results.replaceChildren(...(several ? renderVerify(data) : mode === "claim" ? renderClaim(data) : renderAsk(data)));
    say("");
  } catch (error) {
    if (seq !== requestSeq) return;
    shown = { mode: null, q: null };
    results.replaceChildren(el("p", { class: "warning", role: "alert" }, `Could not ${mode === "claim" ? "check" : "ask"}: ${error.message}`));
    say("");
  } finally {
    if (seq === requestSeq) results.removeAttribute("aria-busy");
  }
}

async function loadDocument(docId) {
  if (!docs.has(docId)) docs.set(docId, api(`/v1/documents/${encodeURIComponent(docId)}`));
  try {
    return await docs.get(docId);
  } catch (error) {
    docs.delete(docId);
    throw error;
  }
}

const narrow = () => getComputedStyle(results).display === "none";

/** Scroll the text box (wide screens) or the page (narrow ones) so the mark sits in the upper third. */
function scrollToMark(mark) {
  const box = mark.closest(".doctext");
  if (box && !narrow() && box.scrollHeight > box.clientHeight) {
    const top = mark.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  } else {
    mark.scrollIntoView({ block: "center" });
  }
}

let resultsScroll = 0; // where the results were scrolled, restored when a document closes on a narrow screen

async function openDocument(target) {
  if (!document.body.classList.contains("doc-open")) resultsScroll = window.scrollY;
  document.body.classList.add("doc-open");
  docview.hidden = false;
  docview.replaceChildren(el("p", { class: "muted" }, "Opening the document…"));
  const hasSpan = target.start !== null && target.end !== null;
  const actions = { close: () => navigate({ ...readUrl(), doc: null }), copy };
  try {
    const doc = await loadDocument(target.doc_id);
    let span = hasSpan ? { start: target.start, end: target.end } : null;
    let problem = null;
    if (span && span.start <= span.end && span.end <= codePointLength(doc.text)) {
      try { // the section label, and a check that our slice is the server's slice
        const served = await api(`/v1/documents/${encodeURIComponent(target.doc_id)}/span?start=${span.start}&end=${span.end}`);
        span = { ...span, label: served.label, text: served.text };
      } catch (error) {
        problem = error.message;
      }
    }
    if (readUrl().doc?.doc_id !== target.doc_id) return; // navigated elsewhere meanwhile
    const mark = renderDocument(docview, doc, span, actions, problem);
    if (mark && span.text !== undefined && mark.textContent !== span.text) {
      docview.querySelector(".dochead").append(el("p", { class: "warning", role: "alert" },
        "The highlighted text differs from the server's span: please report this."));
    }
    if (mark) {
      scrollToMark(mark);
      mark.focus({ preventScroll: true });
    } else {
      $("doc-title").focus({ preventScroll: true });
      if (narrow()) docview.scrollIntoView({ block: "start" });
    }
  } catch (error) {
    docview.replaceChildren(el("p", { class: "warning", role: "alert" }, `Could not open ${target.doc_id}: ${error.message}`));
  }
}

/** Mark the result links that point at the open span (or none). */
function markCurrent(target) {
  for (const a of results.querySelectorAll("a[data-doc]")) {
    const same = target && a.dataset.doc === target.doc_id && a.dataset.start === String(target.start)
      && a.dataset.end === String(target.end);
    if (same) a.setAttribute("aria-current", "location");
    else a.removeAttribute("aria-current");
  }
}

function closeDocument() {
  markCurrent(null);
  if (!document.body.classList.contains("doc-open")) return;
  const wasNarrow = narrow();
  document.body.classList.remove("doc-open");
  docview.hidden = true;
  docview.replaceChildren();
  if (wasNarrow) window.scrollTo(0, resultsScroll);
}

function setMode(mode) {
  form.elements.mode.value = mode;
  $("go").textContent = mode === "claim" ? "Check" : "Ask";
  $("q-label").textContent = mode === "claim" ? "Claim" : "Question";
  input.placeholder = mode === "claim" ? "State a claim (or paste a few sentences) to check, e.g. “X was born in 1900.”"
    : "Ask a question, e.g. who, when, why…";
}

/** Make the page match `state` (from the URL): run the query if it changed, open or close the document. */
async function show(state) {
  setMode(state.mode);
  if (document.activeElement !== input) input.value = state.q;
  document.title = state.q ? `${state.q} — rag` : "rag — ask the corpus";
  const work = [];
  if (!state.q) {
    if (shown.q !== "" || !results.childElementCount) {
      shown = { mode: state.mode, q: "" };
      work.push(renderHome());
    }
  } else if (state.q !== shown.q || state.mode !== shown.mode) {
    work.push(runQuery(state.mode, state.q));
  }
  if (state.doc) work.push(openDocument(state.doc));
  else closeDocument();
  await Promise.all(work);
  if (state.doc) markCurrent(state.doc);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (!q) return;
  const mode = form.elements.mode.value;
  shown = { mode: null, q: null }; // asking again re-runs even the same question
  navigate({ mode, q, doc: null }).then(() => results.focus({ preventScroll: true }));
});

form.addEventListener("change", (event) => {
  if (event.target.name === "mode") {
    setMode(event.target.value);
    input.focus();
  }
});

$("home").addEventListener("click", (event) => {
  event.preventDefault();
  input.value = "";
  navigate({ mode: "ask", q: "", doc: null });
});

document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    input.focus();
    input.select();
  } else if (event.key === "Escape" && !docview.hidden) {
    event.preventDefault();
    navigate({ ...readUrl(), doc: null });
  }
});

window.addEventListener("popstate", () => show(readUrl()));
window.rag = { ready: show(readUrl()) }; // tests wait on this
