"""The chat widget in headless Chromium against the real server (uvicorn in a thread).

Skips, saying why, where Chromium is missing (``make browser`` installs Debian's package).
"""

from __future__ import annotations

import shutil

import pytest

from ecomlm_sdk.serve import make_customer_token

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.slow
def test_widget_answers_and_shows_a_handoff(server: str) -> None:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (make test installs the Debian package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    token = make_customer_token("test-shared-secret", "c1", ttl=300)
    errors: list[str] = []
    outside: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith((server, "data:")) else outside.append(r.url),
            )
            page.goto(f"{server}/widget#key=key-widget&token={token}", wait_until="load")
            page.fill("#message", "How can I get a refund?")
            page.click("#send")
            page.wait_for_selector(".msg.bot", timeout=30_000)
            first = page.inner_text(".msg.bot")
            assert first.strip() and "went wrong" not in first
            # A message in another language is always handed to a person.
            page.fill("#message", "Wo ist meine Bestellung? Ich möchte mein Geld zurück.")
            page.click("#send")
            page.wait_for_selector(".msg.handoff", timeout=30_000)
            handoff = page.inner_text(".msg.handoff")
            assert "A person will take it from here." in handoff
            assert page.locator(".msg.me").count() == 2
        finally:
            browser.close()
    assert errors == [] and outside == []
