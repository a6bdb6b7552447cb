"""Micro-batching, reloading without dropping requests, and a folder that fails to load."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from ecomlm_sdk.serve import create_app
from ecomlm_sdk.serve.batching import SupportBatcher
from ecomlm_sdk.serve.models import ModelHolder, ModelSet
from ecomlm_sdk.tasks.support.reply import SupportReply


class _CountingSupport:
    """Stands in for a support task: counts calls and echoes each message."""

    name = "support"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def answer_many(
        self, messages: list[str], ids: list[str | None], *, store: Any = None
    ) -> list[SupportReply]:
        self.calls.append(len(messages))
        return [
            SupportReply(
                intent="echo",
                confidence=1.0,
                margin=1.0,
                alternatives={},
                text=f"{m}|{c}",
                handoff=False,
                source="faq",
            )
            for m, c in zip(messages, ids, strict=True)
        ]


def test_batcher_answers_concurrent_messages_in_few_calls(tmp_path: Path) -> None:
    task = _CountingSupport()
    holder = ModelHolder(tmp_path, None)
    holder.current = ModelSet(tmp_path, {"support": task})
    batcher = SupportBatcher(holder, wait_s=0.01, max_batch=8)

    async def run() -> list[SupportReply]:
        try:
            return await asyncio.gather(*(batcher.answer(f"m{i}", f"c{i}") for i in range(20)))
        finally:
            await batcher.stop()

    replies = asyncio.run(run())
    # each caller gets its own answer back, in its own order
    assert [r.text for r in replies] == [f"m{i}|c{i}" for i in range(20)]
    assert sum(task.calls) == 20 and max(task.calls) <= 8
    assert len(task.calls) < 20 and batcher.calls == len(task.calls)


def test_batcher_passes_model_errors_to_every_waiting_request(tmp_path: Path) -> None:
    holder = ModelHolder(tmp_path, None)  # nothing loaded
    batcher = SupportBatcher(holder, wait_s=0.0, max_batch=4)

    async def run() -> list[Any]:
        try:
            return await asyncio.gather(
                *(batcher.answer("m", None) for _ in range(3)), return_exceptions=True
            )
        finally:
            await batcher.stop()

    assert all(isinstance(r, LookupError) for r in asyncio.run(run()))


def test_concurrent_http_requests_share_classifier_calls(make_settings: Any, auth: Any) -> None:
    n = 16
    app = create_app(make_settings(batch_wait_ms=20.0))

    async def run() -> tuple[list[int], int, int]:
        await app.state.reload()
        support = app.state.holder.current.tasks["support"]
        calls = [0]
        predict = support.classifier.predict_proba

        def counted(texts: Any) -> Any:
            calls[0] += 1
            return predict(texts)

        support.classifier.predict_proba = counted
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/v1/support/answer",
                        json={"message": f"How can I get a refund for item {i}?"},
                        headers=auth("widget"),
                    )
                    for i in range(n)
                )
            )
        await app.state.batcher.stop()
        return [r.status_code for r in responses], calls[0], app.state.batcher.calls

    codes, classifier_calls, batches = asyncio.run(run())
    assert codes == [200] * n
    assert 1 <= classifier_calls < n and batches == classifier_calls
    assert "ecomlm_support_batched_messages_total 16" in app.state.metrics.render(
        ready=True, version=1
    )


@pytest.fixture
def own_model_dir(model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the saved tasks this test may break."""
    return Path(shutil.copytree(model_dir, tmp_path / "models"))


def test_a_folder_that_fails_to_load_keeps_the_old_models(
    own_model_dir: Path, make_settings: Any, auth: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(model_dir=own_model_dir))
    body = {"message": "How can I get a refund?"}
    with TestClient(app) as client:
        saved = {p: p.read_bytes() for p in (own_model_dir / "support").rglob("*") if p.is_file()}
        target = next(p for p in saved if p.suffix == ".json" and p.name != "ecomlm_task.json")
        target.write_text('{"changed": true}')  # the checksum manifest no longer matches
        with caplog.at_level(logging.ERROR, logger="ecomlm_sdk.serve"):
            failed = client.post("/v1/admin/reload", headers=auth())
        assert failed.status_code == 503
        assert failed.json()["ready"] is False and target.name in failed.json()["error"]
        assert any("keeping the old models" in r.getMessage() for r in caplog.records)
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/support/answer", json=body, headers=auth()).status_code == 200
        assert "ecomlm_models_ready 0" in client.get("/metrics").text
        for path, content in saved.items():
            path.write_bytes(content)
        fixed = client.post("/v1/admin/reload", headers=auth())
        assert fixed.status_code == 200 and fixed.json()["version"] == 2
        assert client.get("/readyz").json()["ready"] is True


def test_reload_under_load_drops_nothing(make_settings: Any, auth: Any) -> None:
    codes: list[int] = []
    lock = threading.Lock()
    with TestClient(create_app(make_settings(rate_burst=1_000))) as client:

        def hammer(i: int) -> None:
            for j in range(8):
                if (i + j) % 2:
                    r = client.post(
                        "/v1/support/answer", json={"message": f"refund {j}?"}, headers=auth()
                    )
                else:
                    r = client.get(f"/v1/recommendations/c{j}?k=2", headers=auth())
                with lock:
                    codes.append(r.status_code)

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        reloads = [client.post("/v1/admin/reload", headers=auth()).status_code for _ in range(2)]
        for thread in threads:
            thread.join(timeout=120)
        version = client.get("/readyz").json()["version"]
    assert reloads == [200, 200] and version == 3
    assert len(codes) == 32 and set(codes) == {200}
