"""The web page in a real headless browser (Debian's chromium, driven by Playwright) against ``rag serve``.

One server for the module, with the real model, on a copy of the bundled corpus plus two small
documents: one with emoji (astral characters) before the text it cites, one holding ``<script>``
markup and a ``javascript:`` URL. Writes docs/screenshot.png (the page after asking a question, with
the cited sentence open) and docs/screenshot-narrow.png (the answer on a 390 px screen).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, stop_process

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = REPO / "docs" / "screenshot.png"
QUESTION = "Who killed Lyushkov?"
OFF_TOPIC = "What is the capital of Peru?"

EMOJI_TEXT = ("= Harbour notes 🗺 =\n\nField notes 😀🎉 on old lighthouses, with emoji 🐍🦀 before the cited text. "
              "The Lighthouse of Alexandria stood on the island of Pharos and was over 100 metres tall.\n\n"
              "== Destruction 🌊 ==\nEarthquakes between 956 and 1323 damaged the lighthouse of Pharos.\n")
EMOJI_CLAIM = "The Lighthouse of Alexandria stood on the island of Pharos and was over 100 metres tall."
SCRIPT_SENTENCE = ("The sample page carried <script>window.__pwned = 'script'</script> and "
                   "<img src=x onerror=\"window.__pwned = 'img'\"> inside a paragraph about gardening tools.")
SCRIPT_TEXT = (f"= Markup sample =\n\nA note about garden sheds and rakes. {SCRIPT_SENTENCE} "
               "Rakes and hoes were kept in the shed.\n")
# The loader refuses non-http(s) URLs (javascript: included), so the hostile URL is a valid https address
# that would break out of an attribute if the page built HTML from it.
MARKUP_URL = "https://example.org/sheds\"><img/src=x/onerror=window.__pwned='url'>"
EXTRA_DOCS = [
    {"doc_id": "harbour_notes", "text": EMOJI_TEXT, "url": "https://example.org/harbour-notes"},
    {"doc_id": "markup_sample", "text": SCRIPT_TEXT, "url": MARKUP_URL},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rag serve`` with the real model on the bundled corpus plus the two test documents."""
    root = tmp_path_factory.mktemp("web_e2e")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "web_samples.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in EXTRA_DOCS),
                                              encoding="utf-8")
    port = _free_port()
    log = (root / "server.log").open("w", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port), "--corpus", str(corpus),
                             "--index", str(root / "index")], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"rag serve did not become ready:\n{(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium); .ci/run does")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (1280x860 unless the test sets a viewport) that records script errors and console errors."""
    viewport = getattr(request, "param", {"width": 1280, "height": 860})
    context = browser.new_context(viewport=viewport, base_url=server,
                                  permissions=["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    yield tab
    context.close()
    assert not problems, problems


def api(server: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{server}{path}", json=body, timeout=60) if body else httpx.get(f"{server}{path}", timeout=60)
    response.raise_for_status()
    return response.json()


def ask(page: Any, question: str, mode: str = "ask") -> None:
    page.goto("/")
    page.check(f"input[name=mode][value={mode}]")
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_selector(".answer, .abstain, .verdict, .warning", timeout=60_000)


def spans_of(answer: dict[str, Any]) -> dict[tuple[str, int, int], str]:
    """Every citable span in an /v1/ask response: (doc_id, start, end) → quote."""
    found: dict[tuple[str, int, int], str] = {}
    if answer["answer"]:
        a = answer["answer"]
        found[(a["doc_id"], a["start"], a["end"])] = a["text"]
    for p in answer["passages"]:
        found[(p["doc_id"], p["start"], p["end"])] = p["text"]
        for h in p["highlights"]:
            found[(p["doc_id"], h["start"], h["end"])] = h["text"]
    return found


def open_link(page: Any, link: Any) -> tuple[str, int, int]:
    key = (link.get_attribute("data-doc"), int(link.get_attribute("data-start")), int(link.get_attribute("data-end")))
    link.click()
    page.wait_for_selector("#cited")
    return key


# -- the researcher's path ---------------------------------------------------------------------------------------
def test_ask_then_open_the_takeoka_citation(page: Any, server: str) -> None:
    ask(page, QUESTION)
    expected = api(server, "/v1/ask", {"question": QUESTION})
    spans = spans_of(expected)
    # The cited sentence that names Takeoka, else the citation of the passage that does.
    takeoka = page.locator("a.hl[data-start]", has_text="Takeoka").first
    if takeoka.count() == 0:
        takeoka = page.locator(".passage", has_text="Takeoka").first.locator("a.cite")
    assert takeoka.count() == 1, "no answer or passage on the page mentions Takeoka"
    shown_quote = takeoka.text_content() if "hl" in (takeoka.get_attribute("class") or "") else None
    key = open_link(page, takeoka)
    assert key in spans, f"the page cites {key}, which the API did not return"
    assert shown_quote in (None, spans[key])
    assert "Takeoka" in spans[key]
    # The highlighted text in the document view is exactly the API's quote, found by offsets.
    assert page.text_content("#cited") == spans[key]
    span = api(server, f"/v1/documents/{key[0]}/span?start={key[1]}&end={key[2]}")
    assert page.text_content("#span-label") == span["label"]
    assert page.text_content(".outline [aria-current=true]") == span["section"][-1]
    assert page.evaluate("document.getElementById('cited').getBoundingClientRect().top") < 860  # scrolled into view
    assert f"s={key[1]}" in page.url and f"e={key[2]}" in page.url
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # Copy citation: title § section, quote, offsets.
    page.click(".dochead button.copy")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert spans[key] in copied and span["label"] in copied and f"{key[1]}–{key[2]}" in copied

    # The permalink reopens the same view: the question asked again, the same span highlighted.
    permalink = page.url
    other = page.context.new_page()
    other.goto(permalink)
    other.wait_for_selector("#cited")
    other.wait_for_selector(".answer, .abstain")
    assert other.input_value("#q") == QUESTION
    assert other.text_content("#cited") == spans[key]

    # Back closes the document; the results stay.
    page.go_back()
    page.wait_for_selector("#docview", state="hidden")
    assert page.locator("a.hl", has_text="Takeoka").count() >= 1


def test_the_short_answer_is_shown_and_marked_inside_its_sentence(page: Any, server: str) -> None:
    question = "When was Lyushkov born?"
    expected = api(server, "/v1/ask", {"question": question})["answer"]
    assert expected and expected["short"], "the API gives a short answer to this question"
    ask(page, question)
    assert page.text_content(".answer .short") == expected["short"]["text"]
    assert page.text_content(".answer blockquote") == expected["text"]  # the whole sentence, unchanged
    assert page.text_content(".answer blockquote strong") == expected["short"]["text"]
    named = api(server, "/v1/ask", {"question": "Who killed Lyushkov?"})["answer"]  # names get no short answer
    ask(page, "Who killed Lyushkov?")
    assert (named is None or named["short"] is None) and page.locator(".answer .short").count() == 0


def test_a_claim_about_someone_else_lists_what_the_sentence_does_not_state(page: Any, server: str) -> None:
    claim = "Takeoka was born in Odessa"
    found = api(server, "/v1/locate", {"claim": claim})
    assert not found["supported"] and found["matches"][0]["missing"] == ["Takeoka"]
    ask(page, claim, mode="claim")
    assert page.text_content(".verdict h2") == "Not found as stated"
    # the sentence also opens with another name in the claim's name's place: a conflict, said first
    said = "disagree" if found["matches"][0]["conflicts"] else "unstated"
    assert said in page.text_content(".verdict p")
    first = page.locator(".match").first
    assert first.locator(".missing").text_content() == "Not stated in this sentence: Takeoka"
    assert first.locator("mark").text_content() == found["matches"][0]["text"]


def test_several_sentences_are_checked_one_at_a_time(page: Any, server: str) -> None:
    text = "Lyushkov fled across the border into Manchukuo in June 1938. Lyushkov was a famous violinist."
    checked = api(server, "/v1/verify", {"text": text})
    ask(page, text, mode="claim")
    supported = checked["supported"]
    assert page.text_content(".verdict h2") == f"{supported} of 2 sentences stated in the corpus"
    rows = page.locator(".statement")
    assert rows.count() == 2
    for i, st in enumerate(checked["statements"]):
        row = rows.nth(i)
        assert st["text"] in row.locator(".said").text_content()
        assert row.locator(".verdict-word").text_content() == ("Stated" if st["supported"] else "Not found as stated")
        assert row.locator("mark").text_content() == st["matches"][0]["text"]
    assert [st["supported"] for st in checked["statements"]] == [True, False]
    rows.nth(0).locator("a.hl").click()  # the match opens in its document at the exact span
    page.wait_for_selector("#docview mark")
    assert page.text_content("#docview mark") == checked["statements"][0]["matches"][0]["text"]


def test_a_sentence_joining_two_facts_is_checked_clause_by_clause(page: Any, server: str) -> None:
    text = "Lyushkov was born in Odessa in 1900 and joined the Cheka in 1920."
    checked = api(server, "/v1/locate", {"claim": text})
    assert checked["parts"], "no one sentence states it, and locate cuts it into clauses"
    assert [p["text"] for p in checked["parts"]] == \
        [p["text"] for p in api(server, "/v1/verify", {"text": text})["statements"][0]["parts"]]
    ask(page, text, mode="claim")
    stated = int(checked["supported"])
    assert page.text_content(".verdict h2") == f"{stated} of 1 sentence stated in the corpus"
    parts = page.locator(".parts > li")
    assert parts.count() == len(checked["parts"])
    for i, part in enumerate(checked["parts"]):
        row = parts.nth(i)
        assert part["text"] in row.locator(".said").text_content()
        assert row.locator(".verdict-word").text_content() == ("Stated" if part["supported"] else "Not found as stated")
        assert row.locator("mark").text_content() == part["matches"][0]["text"]


def test_every_passage_link_opens_its_exact_text(page: Any, server: str) -> None:
    ask(page, QUESTION)
    spans = spans_of(api(server, "/v1/ask", {"question": QUESTION}))
    links = page.locator("a.cite[data-start], a.hl[data-start]")
    assert links.count() >= 3
    for i in range(min(links.count(), 8)):
        key = open_link(page, links.nth(i))
        assert page.text_content("#cited") == spans[key], key
        page.keyboard.press("Escape")
        page.wait_for_selector("#docview", state="hidden")


def test_off_topic_question_abstains(page: Any, server: str) -> None:
    assert api(server, "/v1/ask", {"question": OFF_TOPIC})["answerable"] is False, "the API answered an off-topic question"
    ask(page, OFF_TOPIC)
    assert page.text_content(".abstain h2") == "Not in the corpus"
    assert page.locator(".answer").count() == 0
    assert "not evidence" in page.text_content(".list-title")
    threshold = api(server, "/v1/ask", {"question": OFF_TOPIC})["min_confidence"]
    assert f"{round(threshold * 100, 1):g}% or more" in page.text_content(".abstain p")
    # the sentence it would have answered with, on request, marked as below the threshold
    closest = api(server, "/v1/ask", {"question": OFF_TOPIC, "min_confidence": 0})["answer"]
    page.click("button.closest")
    page.wait_for_selector("div.closest, .abstain .muted")
    if closest is None:
        assert "comes close" in page.text_content(".abstain .muted")
    else:
        assert page.text_content("div.closest mark") == closest["text"]
        assert f"confidence {round(closest['confidence'] * 100)}%" in page.text_content("div.closest .warning")
        assert page.locator(".answer").count() == 0  # still not presented as an answer


# -- offsets are code points; the page indexes UTF-16 ------------------------------------------------------------
def test_span_after_emoji_is_highlighted_exactly(page: Any, server: str) -> None:
    found = api(server, "/v1/locate", {"claim": EMOJI_CLAIM})
    match = next(m for m in found["matches"] if m["doc_id"] == "harbour_notes")
    assert match["text"] == EMOJI_CLAIM and match["start"] > EMOJI_TEXT.index("Field")  # astral characters before it
    ask(page, EMOJI_CLAIM, mode="claim")
    link = page.locator(f'a.hl[data-doc=harbour_notes][data-start="{match["start"]}"]')
    open_link(page, link)
    assert page.text_content("#cited") == EMOJI_CLAIM
    page.click(".dochead button.copy")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert EMOJI_CLAIM in copied and "https://example.org/harbour-notes" in copied
    # A permalink made by hand from Python (code-point) offsets, across emoji, starting mid-document.
    start = EMOJI_TEXT.index("Earthquakes")
    end = len(EMOJI_TEXT) - 1
    page.goto(f"/?doc=harbour_notes&s={start}&e={end}")
    page.wait_for_selector("#cited")
    assert page.text_content("#cited") == EMOJI_TEXT[start:end]
    assert page.text_content(".outline [aria-current=true]") == "Destruction 🌊"


def test_code_point_helpers_in_the_browser(page: Any) -> None:
    page.goto("/")
    text = "a😀b🎉🐍c é\u0301 𝔘nicode"
    cases = [(0, 1), (1, 2), (2, 3), (3, 5), (0, len(text)), (5, 5), (6, len(text))]
    got = page.evaluate("""async ([text, cases]) => {
        const t = await import('/web/text.js');
        return { slices: cases.map(([s, e]) => t.sliceCodePoints(text, s, e)), length: t.codePointLength(text),
                 tooFar: (() => { try { t.unitOffsets(text, [999]); return 'no error'; } catch (e) { return e.name; } })() };
    }""", [text, cases])
    assert got["slices"] == [text[s:e] for s, e in cases]
    assert got["length"] == len(text)
    assert got["tooFar"] == "RangeError"


# -- safety --------------------------------------------------------------------------------------------------------
def test_document_markup_is_shown_as_text_and_never_runs(page: Any, server: str) -> None:
    ask(page, SCRIPT_SENTENCE, mode="claim")
    card = page.locator(".match", has=page.locator("a.hl[data-doc=markup_sample]")).first
    assert "<script>window.__pwned = 'script'</script>" in card.text_content()
    open_link(page, card.locator("a.hl").first)
    assert page.text_content("#cited") == SCRIPT_SENTENCE
    assert "<img src=x onerror=" in page.text_content("#doctext")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#doctext *").evaluate_all("els => els.map(e => e.tagName)") == ["SPAN", "SPAN", "MARK"]
    assert page.locator("script").count() == 1  # only the page's own module
    assert page.locator("img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.click(".dochead button.copy")
    clip = page.evaluate("navigator.clipboard.readText()")
    assert "https://example.org/sheds%22%3E%3Cimg" in clip and 'sheds"><img' not in clip  # the URL, percent-encoded
    assert page.evaluate("window.__pwned") is None


def test_document_links_without_or_with_a_bad_span(page: Any) -> None:
    page.goto("/")
    page.click("a.doclink[data-doc=harbour_notes]")  # the start page lists the documents
    page.wait_for_selector("#doctext")
    assert page.text_content("#doc-title") == "Harbour notes 🗺"
    assert page.text_content("#doctext") == EMOJI_TEXT  # the whole stored text, exactly
    assert page.locator("#cited").count() == 0 and page.locator(".dochead button.copy").count() == 0
    assert page.get_attribute(".docmeta a", "href") == "https://example.org/harbour-notes"
    page.goto("/?doc=harbour_notes&s=5&e=99999")
    page.wait_for_selector("#docview .warning")
    assert "not inside this document" in page.text_content("#docview .warning")
    assert page.locator("#cited").count() == 0


# -- keyboard and narrow screens -----------------------------------------------------------------------------------
@pytest.mark.parametrize("page", [{"width": 390, "height": 844}], indirect=True)
def test_keyboard_only_on_a_narrow_screen(page: Any, server: str) -> None:
    page.goto("/")
    page.wait_for_selector(".doclist")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector(".answer, .abstain")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows sideways
    page.screenshot(path=str(SCREENSHOT.with_name("screenshot-narrow.png")))
    for _ in range(40):  # tab to the first cited sentence and open it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('hl')"):
            break
    else:
        pytest.fail("no cited sentence is reachable with Tab")
    quote = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cited")
    assert page.text_content("#cited") == quote
    assert not page.is_visible("#results")  # the document replaces the results on a narrow screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.keyboard.press("Escape")
    page.wait_for_selector("#docview", state="hidden")
    assert page.is_visible("#results")
