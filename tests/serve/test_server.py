"""The real server: ``ecomlm serve`` in a subprocess on a free loopback port, over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ecomlm_sdk.cli import main
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.serve import KEYS_ENV, SECRET_ENV, hash_api_key

KEY = "subprocess-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("X-API-Key", KEY)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw


def test_serve_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--model-dir" in result.output and "SIGHUP" in result.output


@pytest.mark.slow
def test_real_server_over_http(model_dir: Path, small_store: EcomStore, tmp_path: Path) -> None:
    models = tmp_path / "models"
    for name in ("recommendation", "prediction"):  # the subprocess has no fake models
        shutil.copytree(model_dir / name, models / name)
    exports = tmp_path / "exports"
    small_store.to_shopify_csv(exports)
    port = _free_port()
    keys = {"keys": [{"name": "ops", "sha256": hash_api_key(KEY), "scopes": ["recommendations",
                                                                           "scores"]}]}  # fmt: skip
    env = {**os.environ, KEYS_ENV: json.dumps(keys), SECRET_ENV: "s", "ECOMLM_PROGRESS": "0"}
    command = [sys.executable, "-c", "from ecomlm_sdk.cli import main; main()", "serve",
               "--model-dir", str(models), "--path", str(exports),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded: at most about a minute for imports and loading
            if process.poll() is not None:
                break
            try:
                if _call(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        status, ready = _call(f"{base}/readyz")
        assert status == 200 and ready["tasks"] == ["purchase-prediction", "recommendation"]
        assert _call(f"{base}/healthz") == (200, {"status": "ok"})
        customer = str(small_store.orders.get_column("customer_id").drop_nulls().sort()[0])
        status, picks = _call(f"{base}/v1/recommendations/{customer}?k=2&exclude_owned=false")
        assert status == 200 and [p["rank"] for p in picks["items"]] == [1, 2]
        status, scores = _call(f"{base}/v1/scores", {"customer_ids": [customer]})
        assert status == 200 and scores["scores"][0]["customer_id"] == customer
        status, _ = _call(f"{base}/v1/support/answer", {"message": "hi"})
        assert status == 403  # the key lacks the support scope
        assert _call(f"{base}/widget")[0] == 200
        assert _call(f"{base}/docs")[0] == 200
        metrics = _call(f"{base}/metrics")[1]
        assert "ecomlm_models_version 1" in metrics
        process.send_signal(signal.SIGHUP)  # reloads the model folder
        for _ in range(600):
            if "ecomlm_models_version 2" in _call(f"{base}/metrics")[1]:
                break
            time.sleep(0.1)
        assert _call(f"{base}/readyz")[1]["version"] == 2
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_a_slow_client_does_not_hold_up_others(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    body = b'{"message": "How can I get a refund?"}'
    with socket.create_connection((host, int(port)), timeout=30) as slow:
        slow.sendall(
            b"POST /v1/support/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-API-Key: key-widget\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            + body[:10]
        )  # fmt: skip
        # while that body trickles in, other clients are answered
        assert _call(f"{server}/healthz") == (200, {"status": "ok"})
        for _ in range(3):
            request = urllib.request.Request(
                f"{server}/v1/support/answer", data=body, method="POST",
                headers={"X-API-Key": "key-widget", "Content-Type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
        slow.sendall(body[10:])  # the slow client finishes and is answered too
        reply = b""
        while b"\r\n\r\n" not in reply and len(reply) < 65_536:
            chunk = slow.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
