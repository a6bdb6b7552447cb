"""``GET /metrics``: Prometheus text exposition (version 0.0.4), written by hand."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from typing import Final

__all__ = ["BUCKETS", "Metrics"]

#: Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


class Metrics:
    """Request counts, latency histograms per route, support hand-offs and batches.

    Routes are recorded by their template (``/v1/recommendations/{customer_id}``), never the
    path itself, so no customer id reaches the metrics.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self.replies = 0
        self.handoffs: Counter[str] = Counter()
        self.batches = 0
        self.batched_messages = 0

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self._buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._sums[route] = self._sums.get(route, 0.0) + seconds

    def observe_reply(self, handoff: bool, reason: str | None) -> None:
        """Count one support reply, and its hand-off reason when it was handed off."""
        with self._lock:
            self.replies += 1
            if handoff:
                self.handoffs[reason or "unknown"] += 1

    def observe_batch(self, size: int) -> None:
        """Count one support batch of ``size`` messages."""
        with self._lock:
            self.batches += 1
            self.batched_messages += size

    def render(self, *, ready: bool, version: int) -> str:
        """The whole exposition text."""
        with self._lock:
            out = [
                "# HELP ecomlm_requests_total HTTP requests by method, route and status.",
                "# TYPE ecomlm_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(
                    f"ecomlm_requests_total{_labels(method=method, route=route, status=status)} {n}"
                )
            out += [
                "# HELP ecomlm_request_duration_seconds Request latency by route.",
                "# TYPE ecomlm_request_duration_seconds histogram",
            ]
            for route, counts in sorted(self._buckets.items()):
                running = 0
                for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                    running += n
                    name = f"ecomlm_request_duration_seconds_bucket{_labels(route=route, le=bound)}"
                    out.append(f"{name} {running}")
                out.append(f"ecomlm_request_duration_seconds_sum{_labels(route=route)} "
                           f"{self._sums[route]:.6f}")  # fmt: skip
                out.append(f"ecomlm_request_duration_seconds_count{_labels(route=route)} {running}")
            handed = sum(self.handoffs.values())
            out += [
                "# HELP ecomlm_support_replies_total Support replies given.",
                "# TYPE ecomlm_support_replies_total counter",
                f"ecomlm_support_replies_total {self.replies}",
                "# HELP ecomlm_support_handoffs_total Support replies handed to a person, by reason.",
                "# TYPE ecomlm_support_handoffs_total counter",
                *(
                    f"ecomlm_support_handoffs_total{_labels(reason=reason)} {n}"
                    for reason, n in sorted(self.handoffs.items())
                ),
                "# HELP ecomlm_support_handoff_rate Share of support replies handed off.",
                "# TYPE ecomlm_support_handoff_rate gauge",
                f"ecomlm_support_handoff_rate {handed / self.replies if self.replies else 0.0:.6f}",
                "# HELP ecomlm_support_batches_total Support task calls (micro-batches).",
                "# TYPE ecomlm_support_batches_total counter",
                f"ecomlm_support_batches_total {self.batches}",
                "# HELP ecomlm_support_batched_messages_total Messages answered in batches.",
                "# TYPE ecomlm_support_batched_messages_total counter",
                f"ecomlm_support_batched_messages_total {self.batched_messages}",
                "# HELP ecomlm_models_ready 1 when the models are loaded and the last load worked.",
                "# TYPE ecomlm_models_ready gauge",
                f"ecomlm_models_ready {int(ready)}",
                "# HELP ecomlm_models_version Loads of the model folder so far.",
                "# TYPE ecomlm_models_version gauge",
                f"ecomlm_models_version {version}",
            ]
        return "\n".join(out) + "\n"
