"""Diagnosed students' feedback pages in headless Chromium, 800 px wide: every misconception reads whole.

The pages are real: the corpus batch (``graded_batch``, graded once per run by ``python -m
grader autograde``) holds a feedback page for every mutant of tests/submissions.py and for the
submission that displays HTML and scripts everywhere (tests/bad_submissions.py); nbgrader's
``generate_feedback`` wrote them through the kit's feedback preprocessors, as it does in an
instructor's course. Debian's Chromium is driven by Playwright (never a downloaded browser),
with the network closed.
"""

from __future__ import annotations

import re

import pytest

from grader.reporting.feedback_html import first_sentence
from tests.bad_submissions import XSS_MARK
from tests.chromium import CHROMIUM_FLAGS
from tests.figures import SCREENSHOTS
from tests.submissions import MISCONCEPTION_OF

PAGE_WIDTH = 800
PAGE_HEIGHT = 1000
#: Students of the batch whose pages are read: a diagnosis in the first and in a later task.
DIAGNOSED = ("crop_python_round", "expanding_nearest_upsampling")
HTML_EVERYWHERE = "html_and_scripts"
#: WCAG's "enhanced" contrast: text this far from its background reads in grayscale too.
ENHANCED_CONTRAST = 7.0


@pytest.fixture
def narrow_page(chromium_executable, playwright_sync_api):
    """A headless page 800 px wide that reaches no network, and the messages of every dialog it opened."""
    dialogs: list[str] = []
    with playwright_sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": PAGE_WIDTH, "height": PAGE_HEIGHT})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page, dialogs
        finally:
            browser.close()


def layout_of(element) -> dict:
    return element.evaluate("""element => {
        const box = element.getBoundingClientRect();
        return {scrollWidth: element.scrollWidth, clientWidth: element.clientWidth, left: box.left, right: box.right};
    }""")


def shown_whole(layout: dict) -> bool:
    """Nothing of the element is behind its own scroll bar or beyond the window's right edge."""
    return layout["scrollWidth"] <= layout["clientWidth"] and 0 <= layout["left"] and layout["right"] <= PAGE_WIDTH


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG 2) of an ``rgb(...)``/``rgba(...)`` colour as the browser computes it."""
    red, green, blue = (float(value) / 255 for value in re.findall(r"[\d.]+", css_colour)[:3])
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("student", DIAGNOSED)
def test_every_misconception_reads_whole_at_800_px_without_scrolling_sideways(graded_batch, narrow_page, student,
                                                                            tmp_path, request):
    report = graded_batch.reports[student]
    diagnoses = [(task.task, diagnosis) for task in report.tasks for diagnosis in task.misconceptions]
    assert [diagnosis.id for _, diagnosis in diagnoses] == [MISCONCEPTION_OF[student]]
    page, dialogs = narrow_page
    page.goto((graded_batch.output / "feedback" / f"{student}.html").as_uri())

    paragraphs = page.locator(".hidden-checks .misconception p")
    assert [paragraph.inner_text() for paragraph in paragraphs.all()] == [
        f"Likely misconception: {diagnosis.explanation}" for _, diagnosis in diagnoses]
    for element in [*paragraphs.all(), *page.locator(".hidden-checks").all(), page.locator(".grading-summary")]:
        element.scroll_into_view_if_needed()
        assert shown_whole(layout_of(element)), (element.inner_text()[:80], layout_of(element))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PAGE_WIDTH

    for box in page.locator(".hidden-checks .misconception").all():
        style = box.evaluate("""box => {
            const style = getComputedStyle(box);
            return {borderLeftWidth: style.borderLeftWidth, color: style.color, backgroundColor: style.backgroundColor};
        }""")
        assert float(style["borderLeftWidth"].removesuffix("px")) >= 4  # set apart, in colour or not
        assert contrast(style["color"], style["backgroundColor"]) >= ENHANCED_CONTRAST

    summary = {row.locator("td").first.inner_text(): row.inner_text() for row in page.locator(".grading-summary tbody tr").all()}
    assert len(summary) == len(report.tasks)
    for task, diagnosis in diagnoses:
        (row,) = [text for title, text in summary.items() if title.endswith(f": {task}")]
        assert first_sentence(diagnosis.explanation) in row

    assert dialogs == []

    paragraphs.first.scroll_into_view_if_needed()
    screenshot = tmp_path / f"feedback-page-800px-{student}.png"
    page.screenshot(path=screenshot)
    SCREENSHOTS[request.node.name] = screenshot


@pytest.mark.slow
def test_a_page_full_of_student_html_and_scripts_shows_them_as_text_and_never_scrolls_sideways(graded_batch,
                                                                                                narrow_page):
    page, dialogs = narrow_page
    page.goto((graded_batch.output / "feedback" / f"{HTML_EVERYWHERE}.html").as_uri())
    assert XSS_MARK in page.locator("body").inner_text()
    assert dialogs == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PAGE_WIDTH
