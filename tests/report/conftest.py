"""Open HTML files in headless Chromium (system package) through Playwright; skip if absent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageCheck:
    """What a page did when rendered."""

    title: str
    images: int
    broken_images: list[str]
    console_errors: list[str]
    external_requests: list[str] = field(default_factory=list)
    text: str = ""
    #: Elements wider than their card, or wider than the window, at the 1400 px viewport.
    overflow: list[str] = field(default_factory=list)
    #: A full-page PNG screenshot at 1400 px.
    screenshot: bytes = b""


#: The width a marketing manager's laptop browser shows the report at.
VIEWPORT = {"width": 1400, "height": 900}

_OVERFLOW_JS = """() => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) out.push(`page ${root.scrollWidth}px wide`);
  for (const el of document.querySelectorAll('section, section *')) {
    const card = el.closest('section');
    const name = card ? (card.querySelector('h2') || {}).textContent : '';
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      out.push(`${el.tagName.toLowerCase()} scrolls sideways in "${name}"`);
    }
    if (card && el !== card) {
      const r = el.getBoundingClientRect(), c = card.getBoundingClientRect();
      if (r.width && r.right > c.right + 1) {
        out.push(`${el.tagName.toLowerCase()} sticks out of "${name}" by ${Math.round(r.right - c.right)}px`);
      }
    }
  }
  return [...new Set(out)];
}"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def render_in_browser() -> Callable[[Path], PageCheck]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine (make test installs the Debian package where it can)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")

    def render(path: Path) -> PageCheck:
        errors: list[str] = []
        external: list[str] = []
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_FLAGS
            )
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on(
                    "request",
                    lambda r: (
                        external.append(r.url) if not r.url.startswith(("data:", "file:")) else None
                    ),
                )
                page.goto(path.resolve().as_uri(), wait_until="load")
                broken = page.eval_on_selector_all(
                    "img",
                    "els => els.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)",
                )
                count = page.eval_on_selector_all("img", "els => els.length")
                overflow = page.evaluate(_OVERFLOW_JS)
                screenshot = page.screenshot(full_page=True)
                return PageCheck(
                    title=page.title(),
                    images=int(count),
                    broken_images=list(broken),
                    console_errors=errors,
                    external_requests=external,
                    text=page.inner_text("body"),
                    overflow=list(overflow),
                    screenshot=screenshot,
                )
            finally:
                browser.close()

    return render
