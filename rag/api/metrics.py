"""Prometheus text exposition (format 0.0.4) without a client library: counters, histograms, gauges."""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Gauge:
    """A gauge family to render: name, help text and one value per label set."""

    name: str
    help: str
    samples: Sequence[tuple[Labels, float]]


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels) + "}"


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class HttpMetrics:
    """Request counts and latency histograms keyed by method, route template and status; thread-safe."""

    def __init__(self, buckets: Sequence[float] = BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        self._counts: dict[Labels, int] = {}
        self._hist: dict[Labels, list[float]] = {}  # per-bucket counts (non-cumulative), +Inf, sum
        self.in_flight = 0

    def start(self) -> None:
        with self._lock:
            self.in_flight += 1

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "OTHER"
        labels: Labels = (("method", method), ("route", route), ("status", str(status)))
        slot = bisect.bisect_left(self.buckets, seconds)
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            self._counts[labels] = self._counts.get(labels, 0) + 1
            hist = self._hist.setdefault(labels, [0.0] * (len(self.buckets) + 2))
            hist[slot] += 1  # slot == len(buckets) is the +Inf-only bucket
            hist[-1] += seconds

    def render(self, gauges: Iterable[Gauge] = ()) -> str:
        with self._lock:
            counts = sorted(self._counts.items())
            hists = sorted((k, list(v)) for k, v in self._hist.items())
            in_flight = self.in_flight
        out = [
            "# HELP rag_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE rag_http_requests_total counter",
        ]
        out += [f"rag_http_requests_total{format_labels(k)} {v}" for k, v in counts]
        out += [
            "# HELP rag_http_request_duration_seconds HTTP request latency by method, route template and status.",
            "# TYPE rag_http_request_duration_seconds histogram",
        ]
        for labels, hist in hists:
            cumulative = 0.0
            for bound, n in zip([*self.buckets, math.inf], hist[:-1], strict=True):
                cumulative += n
                le = format_labels((*labels, ("le", format_value(bound))))
                out.append(f"rag_http_request_duration_seconds_bucket{le} {format_value(cumulative)}")
            out.append(f"rag_http_request_duration_seconds_sum{format_labels(labels)} {format_value(hist[-1])}")
            out.append(f"rag_http_request_duration_seconds_count{format_labels(labels)} {format_value(cumulative)}")
        gauges = [Gauge("rag_http_requests_in_flight", "HTTP requests being served.", [((), in_flight)]),
                  *gauges]
        for gauge in gauges:
            out += [f"# HELP {gauge.name} {gauge.help}", f"# TYPE {gauge.name} gauge"]
            out += [f"{gauge.name}{format_labels(labels)} {format_value(value)}" for labels, value in gauge.samples]
        return "\n".join(out) + "\n"
