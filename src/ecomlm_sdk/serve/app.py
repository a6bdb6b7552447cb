"""The ASGI app of ``ecomlm serve``: :func:`create_app`.

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations at run
time, and they name dependencies built inside :func:`create_app` (a string could not find them).
"""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecomlm_sdk._version import __version__
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.serve.batching import SupportBatcher
from ecomlm_sdk.serve.metrics import Metrics
from ecomlm_sdk.serve.models import ModelHolder, ModelSet
from ecomlm_sdk.serve.schemas import (
    CustomerScore,
    Readiness,
    Recommendations,
    RecommendedProduct,
    ScoresRequest,
    ScoresResponse,
    SupportRequest,
)
from ecomlm_sdk.serve.security import ApiKey, KeyRing, TokenBucket, TokenError, read_customer_token
from ecomlm_sdk.serve.security import Scope as KeyScope
from ecomlm_sdk.serve.settings import ServeSettings
from ecomlm_sdk.serve.widget import WIDGET_HTML
from ecomlm_sdk.tasks.support.reply import SupportReply

__all__ = ["create_app"]

access_log = logging.getLogger("ecomlm_sdk.serve.access")
logger = logging.getLogger("ecomlm_sdk.serve")


class _Guard:
    """Outermost ASGI layer: body-size limit, latency metrics and a PII-free access log.

    The access log and the metrics name the route template
    (``/v1/recommendations/{customer_id}``), the status, the time taken and the API key's name:
    never the path, the query, a body or a token.
    """

    def __init__(self, app: ASGIApp, *, max_body: int, metrics: Metrics) -> None:
        self.app, self.max_body, self.metrics = app, max_body, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            response = JSONResponse({"detail": "request body too large"}, status_code=413)
            await response(scope, receive, send)
            self._log(scope, 413, started)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413, "request body too large")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        finally:
            self._log(scope, status, started)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        seconds = time.perf_counter() - started
        self.metrics.observe_request(scope["method"], route, status, seconds)
        key = scope.get("state", {}).get("api_key_name", "-")
        access_log.info("%s %s %d %.1fms key=%s", scope["method"], route, status,
                        seconds * 1000, key)  # fmt: skip


def create_app(
    settings: ServeSettings,
    *,
    store: EcomStore | None = None,
    handle_sighup: bool = False,
) -> FastAPI:
    """The server's ASGI app: models from ``settings.model_dir``, loaded at start-up.

    Args:
        settings: What to serve and the limits.
        store: The shop's store: support looks orders up in it, ``/v1/scores`` scores it
            (scored once per load). ``None``: order questions are handed off and
            ``/v1/scores`` answers 503.
        handle_sighup: Reload the models on ``SIGHUP`` (the CLI sets it; needs the main thread).
    """
    holder = ModelHolder(settings.model_dir, store, trust_remote_code=settings.trust_remote_code)
    metrics = Metrics()
    batcher = SupportBatcher(
        holder,
        wait_s=settings.batch_wait_ms / 1000,
        max_batch=settings.max_batch,
        on_batch=metrics.observe_batch,
    )
    keys = KeyRing(settings.api_keys)
    buckets = TokenBucket(settings.rate_per_second, settings.rate_burst)
    reloading = asyncio.Lock()

    async def reload() -> bool:
        async with reloading:
            return await anyio.to_thread.run_sync(holder.reload)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await reload()
        loop = asyncio.get_running_loop()
        if handle_sighup:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(
                    signal.SIGHUP, lambda: loop.create_task(reload())
                )  # fmt: skip
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="ecomlm-sdk server",
        version=__version__,
        lifespan=lifespan,
        description="Support answers, recommendations and purchase scores from saved tasks.",
    )
    app.state.holder, app.state.metrics, app.state.batcher = holder, metrics, batcher
    app.state.reload = reload
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    app.add_middleware(_Guard, max_body=settings.max_body_bytes, metrics=metrics)

    def require(scope: KeyScope) -> Callable[[Request], Awaitable[ApiKey]]:
        async def check(request: Request) -> ApiKey:
            presented = request.headers.get("x-api-key")
            auth = request.headers.get("authorization", "")
            if presented is None and auth.lower().startswith("bearer "):
                presented = auth[7:].strip()
            key = keys.find(presented)
            if key is None:
                raise HTTPException(
                    401, "missing or unknown API key", headers={"WWW-Authenticate": "Bearer"}
                )
            request.scope.setdefault("state", {})["api_key_name"] = key.name
            if scope not in key.scopes:
                raise HTTPException(403, f"this API key lacks the {scope!r} scope")
            wait = buckets.take(key.name)
            if wait > 0:
                raise HTTPException(
                    429, "rate limit exceeded", headers={"Retry-After": str(max(1, round(wait)))}
                )
            return key

        return check

    def task(name: str) -> Any:
        models = holder.current
        found = models.tasks.get(name) if models is not None else None
        if found is None:
            raise HTTPException(503, f"no {name!r} task is loaded")
        return found

    def readiness() -> Readiness:
        models: ModelSet | None = holder.current
        return Readiness(
            ready=holder.ready,
            version=models.version if models is not None else 0,
            tasks=sorted(models.tasks) if models is not None else [],
            error=holder.error,
        )

    # ------------------------------------------------------------------ probes and metrics
    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """The process is up (models or not)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], responses={503: {"model": Readiness}})
    async def readyz() -> JSONResponse:
        """Models are loaded and the last load worked; 503 otherwise (with the reason)."""
        state = readiness()
        return JSONResponse(state.model_dump(), status_code=200 if state.ready else 503)

    @app.get("/metrics", tags=["probes"], response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        """Prometheus text: requests, latency histograms, hand-off rate, batches."""
        models = holder.current
        text = metrics.render(ready=holder.ready, version=models.version if models else 0)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/widget", tags=["widget"], response_class=HTMLResponse)
    async def widget() -> HTMLResponse:
        """The chat widget: one self-contained page, no external assets."""
        return HTMLResponse(
            WIDGET_HTML,
            headers={
                "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors *",
            },
        )

    # ------------------------------------------------------------------ the API
    @app.post("/v1/support/answer", tags=["support"])
    async def support_answer(
        body: SupportRequest, _key: Annotated[ApiKey, Depends(require("support"))]
    ) -> SupportReply:
        """Answer one customer message (batched with concurrent ones).

        The customer is the one the ``customer_token`` names, checked against the secret shared
        with the shop's backend; without a token, no order details are given.
        """
        if len(body.message) > settings.max_message_chars:
            raise HTTPException(422, f"message longer than {settings.max_message_chars} characters")
        customer = None
        if body.customer_token is not None:
            if settings.customer_token_secret is None:
                raise HTTPException(401, "this server does not accept customer tokens")
            try:
                customer = read_customer_token(settings.customer_token_secret, body.customer_token)
            except TokenError as exc:
                raise HTTPException(401, str(exc)) from exc
        task("support")
        reply = await batcher.answer(body.message, customer)
        metrics.observe_reply(reply.handoff, reply.reason)
        return reply

    @app.get("/v1/recommendations/{customer_id}", tags=["recommendations"])
    async def recommendations(
        customer_id: str,
        _key: Annotated[ApiKey, Depends(require("recommendations"))],
        k: Annotated[int, Query(ge=1, le=settings.max_k)] = 10,
        exclude_owned: bool = True,
    ) -> Recommendations:
        """Top-``k`` products for one customer (trending products for an unknown one)."""
        rec = task("recommendation")

        def run() -> Recommendations:
            frame = rec.recommend([customer_id], k=k, exclude_owned=exclude_owned)
            cold = rec.cold_start([customer_id])[0]
            items = [
                RecommendedProduct.model_validate(row)
                for row in frame.drop("customer_id").to_dicts()
            ]
            return Recommendations(customer_id=customer_id, cold_start=cold, items=items)

        return await anyio.to_thread.run_sync(run)

    @app.post("/v1/scores", tags=["scores"])
    async def scores(
        body: ScoresRequest, _key: Annotated[ApiKey, Depends(require("scores"))]
    ) -> ScoresResponse:
        """Purchase probability and expected revenue of each customer (scored at load time)."""
        if len(body.customer_ids) > settings.max_batch_ids:
            raise HTTPException(422, f"at most {settings.max_batch_ids} customer ids per call")
        task("purchase-prediction")
        models = holder.current
        if models is None or models.scores is None:
            raise HTTPException(503, "scores need the shop's store (ecomlm serve --path ...)")
        rows = models.scores.row
        found, unknown = [], []
        for customer in body.customer_ids:
            index = models.score_index.get(customer)
            if index is None:
                unknown.append(customer)
            else:
                found.append(CustomerScore.model_validate(rows(index, named=True)))
        return ScoresResponse(scores=found, unknown=unknown)

    @app.post(
        "/v1/admin/reload",
        tags=["admin"],
        response_model=Readiness,
        responses={503: {"model": Readiness}},
    )
    async def admin_reload(_key: Annotated[ApiKey, Depends(require("admin"))]) -> JSONResponse:
        """Load the model folder again; requests keep being served by the old models meanwhile.

        A folder that fails to load keeps the old models serving, turns ``/readyz`` to 503 and
        answers 503 with the reason.
        """
        await reload()
        state = readiness()
        return JSONResponse(state.model_dump(), status_code=200 if state.ready else 503)

    return app
