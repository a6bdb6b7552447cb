"""``ecomlm serve`` load benchmark: throughput and latency over real HTTP, micro-batching on vs off.

Saved tasks (support + recommendation, fitted on the bundled sample store) are served by two
real uvicorn servers, each in its own subprocess on a free 127.0.0.1 port, started side by side:

* ``batched``: the server's defaults, ``batch_wait_ms=5``, ``max_batch=32``;
* ``unbatched``: ``max_batch=1``, ``batch_wait_ms=0`` (every support message is its own
  ``answer_many`` call; nothing waits for company).

Everything else is the same (rate limit raised out of the way). ``--clients`` concurrent asyncio
clients (httpx2, one keep-alive connection each) call one endpoint for ``--seconds`` per phase:
``POST /v1/support/answer`` (varied messages, a quarter of them with a signed customer token)
or ``GET /v1/recommendations/{id}?k=10`` (customers of the store). The phases alternate
between the two servers for ``--repeat`` rounds; medians over rounds are printed with the
batched/unbatched ratio. Latency percentiles are over every request of a phase; "server CPU"
is the server process's user+system CPU time per request. Loopback only, bounded: each phase
stops at ``--seconds`` or ``--max-requests``, each request times out after 30 s, and the
servers are always stopped at the end.

The support task is the real one (``task("support")`` defaults: the bundled MiniLM classifier
head and embedder), fitted once and cached in ``benchmarks/results/serve_models/``; ``--fake``
uses the kit's fake classifier and embedder instead (the HTTP and batching overhead alone).
``--quick`` (2 s phases, 1 round, 8 clients, fakes unless ``--real``) finishes in well under a
minute.

Usage::

    .venv/bin/python benchmarks/bench_serve.py [--seconds 10] [--clients 16] [--repeat 3]
        [--fake | --real] [--quick] [--refit]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "serve_models"
KEY = "bench-serve-key"
SECRET = "bench-serve-secret"
CONFIGS = {
    "batched": {"batch_wait_ms": 5.0, "max_batch": 32},
    "unbatched": {"batch_wait_ms": 0.0, "max_batch": 1},
}
MESSAGES = (
    "How can I get a refund?",
    "I want to cancel my order",
    "Where is my order?",
    "what are your shipping options",
    "I need to speak to a real person",
    "how do I change the delivery address",
    "can I pay with paypal?",
    "my package arrived damaged, what now",
    "I forgot my password",
    "do you ship to Canada",
    "what's the weather like in Paris tomorrow?",
    "how long does a refund take",
    "I'd like to make a complaint about the service",
    "is there a fee for cancelling",
)


# ---------------------------------------------------------------------------- the saved tasks
def _fakes_plugin() -> Any:
    import ecomlm_sdk
    from ecomlm_sdk import testing

    class _Fakes:
        @ecomlm_sdk.hookimpl
        def register_models(self, register: Any) -> None:
            for model in (testing.FakeClassifier, testing.FakeEmbedder):
                register(model)

    return testing.registered_plugin(_Fakes(), name="bench-serve-fakes")


def prepare_models(fake: bool, refit: bool) -> tuple[Path, float | None]:
    """The cached model folder (fitted now when missing) and the fit time (None: cached)."""
    import ecomlm_sdk

    folder = CACHE / ("fake" if fake else "real")
    marker = folder / "fitted.json"
    if (
        not refit
        and marker.is_file()
        and json.loads(marker.read_text()).get("version") == ecomlm_sdk.__version__
    ):
        return folder, None
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    store = ecomlm_sdk.sample_store()
    started = time.perf_counter()
    if fake:
        with _fakes_plugin():
            ecomlm_sdk.task(
                "support", classifier="fake-classifier", embedder="fake-embedder", quiet=True
            ).fit(store).save(folder / "support")
    else:
        ecomlm_sdk.task("support", quiet=True).fit(store).save(folder / "support")
    ecomlm_sdk.task("recommendation", embedder=None, quiet=True).fit(store).save(
        folder / "recommendation"
    )
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"version": ecomlm_sdk.__version__, "fit_s": seconds}))
    return folder, seconds


# ---------------------------------------------------------------------------- the server child
def child(spec: dict[str, Any]) -> None:
    """Run one server (in this process, until terminated): the bench's ``--child`` mode."""
    import uvicorn

    import ecomlm_sdk
    from ecomlm_sdk.serve import ApiKey, ServeSettings, create_app, hash_api_key

    key = ApiKey(name="bench", sha256=hash_api_key(KEY), scopes=("support", "recommendations"))
    settings = ServeSettings(
        model_dir=Path(spec["model_dir"]),
        api_keys=(key,),
        customer_token_secret=SECRET,
        rate_per_second=1e9,
        rate_burst=10**9,
        **spec["config"],
    )
    with _fakes_plugin() if spec["fake"] else contextlib.nullcontext():
        app = create_app(settings, store=ecomlm_sdk.sample_store())
        uvicorn.run(app, host="127.0.0.1", port=spec["port"], log_level="warning",
                    access_log=False)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server subprocess on a free loopback port."""

    def __init__(self, name: str, model_dir: Path, fake: bool, log: Path) -> None:
        self.name, self.port = name, _free_port()
        spec = {"model_dir": str(model_dir), "fake": fake, "port": self.port,
                "config": CONFIGS[name]}  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "ECOMLM_PROGRESS": "0"}  # fmt: skip
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_ready(self, timeout: float) -> None:
        import httpx2

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the {self.name} server did not become ready; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()


# ---------------------------------------------------------------------------- the clients
def requests_for(customers: list[str], tokens: dict[str, str], seed: int) -> Any:
    """Endless (method, path, body) for each endpoint, varied and reproducible."""
    rng = random.Random(seed)

    def support() -> tuple[str, str, Any]:
        body: dict[str, Any] = {"message": rng.choice(MESSAGES)}
        if rng.random() < 0.25:
            body["customer_token"] = tokens[rng.choice(list(tokens))]
        return "POST", "/v1/support/answer", body

    def recommendations() -> tuple[str, str, Any]:
        return "GET", f"/v1/recommendations/{rng.choice(customers)}?k=10", None

    return {"support": support, "recommendations": recommendations}


async def _phase(
    server: Server, make: Any, clients: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    import httpx2

    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"X-API-Key": KEY}
    async with httpx2.AsyncClient(
        base_url=server.base, limits=limits, timeout=30.0, headers=headers
    ) as client:

        async def one(count: bool) -> None:
            method, path, body = make()
            started = time.perf_counter()
            try:
                response = await client.request(method, path, json=body)
                outcome = str(response.status_code)
            except httpx2.HTTPError as exc:
                outcome = type(exc).__name__
            if count:
                if outcome == "200":
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1

        # warm up: every client connects and the models see a few batches (not counted)
        await asyncio.gather(*(one(False) for _ in range(clients * 2)))
        cpu0, started = server.cpu_seconds(), time.perf_counter()
        deadline, issued = started + seconds, [0]

        async def worker() -> None:
            while time.perf_counter() < deadline and issued[0] < max_requests:
                issued[0] += 1
                await one(True)

        await asyncio.gather(*(worker() for _ in range(clients)))
        wall, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu0
    done = len(latencies)
    ordered = sorted(latencies) or [float("nan")]

    def pct(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "rps": done / wall,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "cpu_ms": 1000 * cpu / max(done, 1),
        "ok": done,
        "errors": errors,
    }


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=None, help="per phase (default 10)")
    parser.add_argument("--clients", type=int, default=None, help="concurrent (default 16)")
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per phase")
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--fake", action="store_true", help="the kit's fake models")
    models.add_argument("--real", action="store_true", help="the real support task")
    parser.add_argument("--quick", action="store_true", help="2 s, 1 round, 8 clients, fakes")
    parser.add_argument("--refit", action="store_true", help="refit the cached models")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    clients = args.clients or (8 if args.quick else 16)
    repeat = args.repeat or (1 if args.quick else 3)
    fake = args.fake or (args.quick and not args.real)
    total = time.perf_counter()

    import ecomlm_sdk
    from ecomlm_sdk.serve import make_customer_token

    model_dir, fit_s = prepare_models(fake, args.refit)
    kind = (
        "kit fakes (fake-classifier, fake-embedder)"
        if fake
        else "real support task (bundled MiniLM classifier head + embedder)"
    )
    fitted = "cached fit" if fit_s is None else f"fitted now in {fit_s:.0f} s"
    print(f"models: {kind}, recommendation (embedder=None); {fitted}: {model_dir}")
    store = ecomlm_sdk.sample_store()
    customers = store.orders.get_column("customer_id").drop_nulls().unique().sort().to_list()
    tokens = {c: make_customer_token(SECRET, c, ttl=3600) for c in customers[:50]}
    print(
        f"{clients} clients, {seconds:g} s per phase, {repeat} round(s); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; batched = batch_wait_ms 5, "
        "max_batch 32; unbatched = max_batch 1, batch_wait_ms 0",
        flush=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    servers = {n: Server(n, model_dir, fake, CACHE / f"server_{n}.log") for n in CONFIGS}
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        started = time.perf_counter()
        for server in servers.values():
            server.wait_ready(timeout=300)
        print(f"both servers ready in {time.perf_counter() - started:.1f} s", flush=True)
        for rnd in range(repeat):
            for endpoint in ("support", "recommendations"):
                order = list(servers) if rnd % 2 == 0 else list(servers)[::-1]
                for name in order:
                    make = requests_for(customers, tokens, seed=rnd)[endpoint]
                    row = asyncio.run(
                        _phase(servers[name], make, clients, seconds, args.max_requests)
                    )
                    results.setdefault((endpoint, name), []).append(row)
                    print(
                        f"  round {rnd + 1} {endpoint:<15} {name:<9} {row['rps']:8.1f} req/s  "
                        f"p50 {row['p50']:7.1f}  p95 {row['p95']:7.1f}  p99 {row['p99']:7.1f} "
                        f"ms  server CPU {row['cpu_ms']:.2f} ms/req  errors {row['errors']}",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.stop()

    print(f"\nmedians over {repeat} round(s) ({clients} clients, {seconds:g} s phases):")
    head = f"{'endpoint':<16}{'server':<11}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(head + f"{'CPU ms/req':>12}{'errors':>8}")
    for endpoint in ("support", "recommendations"):
        med = {}
        for name in CONFIGS:
            rows = results[(endpoint, name)]
            med[name] = {k: statistics.median(r[k] for r in rows) for k in
                         ("rps", "p50", "p95", "p99", "cpu_ms")}  # fmt: skip
            errors = sum(sum(r["errors"].values()) for r in rows)
            m = med[name]
            print(
                f"{endpoint:<16}{name:<11}{m['rps']:9.1f}{m['p50']:9.1f}{m['p95']:9.1f}"
                f"{m['p99']:9.1f}{m['cpu_ms']:12.2f}{errors:8d}"
            )
        b, u = med["batched"], med["unbatched"]

        def ratio(k: str, b: dict[str, float] = b, u: dict[str, float] = u) -> str:
            return f"{b[k] / u[k]:8.2f}x" if u[k] > 0 and b[k] == b[k] else f"{'-':>9}"

        cells = "".join(ratio(k) for k in ("rps", "p50", "p95", "p99"))
        print(f"{endpoint:<16}{'ratio b/u':<11}{cells}{ratio('cpu_ms'):>12}")
    print(f"total {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
