#!/usr/bin/env python3
"""Traces of a small shop, written by the real OpenTelemetry SDK, for the tests of
`blastradius import traces` and `blastradius calibrate`.

A seeded synthetic timeline drives spans through the SDK with explicit start and end
timestamps (so it is fast and the same seed gives the same bytes), and the SDK's own encoders
write them out:

- otlp.jsonl: one ExportTraceServiceRequest per line, as the Collector's file exporter writes
  them, from `opentelemetry-exporter-otlp-proto-common`'s protobuf encoding mapped to JSON by
  protobuf's `json_format`, with the ids rewritten from base64 to hex as the OTLP JSON spec
  requires (protobuf's generic mapping writes bytes as base64; OTLP's is the exception);
- zipkin.json: one Zipkin v2 list of spans, from `opentelemetry-exporter-zipkin-json`'s
  encoder (one local endpoint per service, as the exporter would have);
- truth.json: the parameters the timeline was drawn from, for the tests to compare with.

The system (4 services with spans of their own, 3 zones, 2-3 instances per zone):

    frontend --> sessions (redis cache, hit ratio 0.8; a miss reads users-db, postgresql)
             --> cart --> orders --> orders-db (postgresql)
                                 --> payments (external, 5% errors, one retry after 10ms)
             --> recommend (probability 0.4)

Usage: scripts/gen-traces.py --out DIR [--traces N] [--rate R] [--seed S] [--slow SERVICE]
                             [--formats otlp,zipkin]

The committed fixtures (tests/fixtures/traces/) are `--traces 60`: tests/it/traces.rs
regenerates them and checks the bytes.
"""

import argparse
import base64
import json
import math
import os
import random

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode

MS = 1_000_000
US = 1_000
Z99 = 2.3263478740408408
# 2025-12-04 00:00:00 UTC: a fixed origin, so the bytes do not depend on the clock.
EPOCH_NS = 1_764_806_400 * 1_000_000_000
# Time between a client span's start and its server span's (and back): the network.
NET_NS = 50 * US
ZONES = ["az-a", "az-b", "az-c"]

# The known parameters. Self time: own work before the calls; dist as in the model's files.
TRUTH = {
    "rate_per_s": 40.0,
    "services": {
        "frontend": {"instances": 2, "self": {"dist": "lognormal", "median_ms": 2.0, "p99_ms": 8.0}},
        "cart": {"instances": 3, "self": {"dist": "exponential", "mean_ms": 3.0}},
        "orders": {"instances": 2, "self": {"dist": "lognormal", "median_ms": 4.0, "p99_ms": 20.0}},
        "recommend": {"instances": 2, "self": {"dist": "constant", "value_ms": 1.5}},
    },
    "leaves": {
        "sessions": {"kind": "cache", "db.system": "redis", "latency": {"median_ms": 0.3, "p99_ms": 1.0}},
        "users-db": {"kind": "database", "db.system": "postgresql", "latency": {"median_ms": 3.0, "p99_ms": 15.0}},
        "orders-db": {"kind": "database", "db.system": "postgresql", "latency": {"median_ms": 2.0, "p99_ms": 10.0}},
        "payments": {"kind": "external", "latency": {"median_ms": 40.0, "p99_ms": 200.0}, "error_rate": 0.05},
    },
    "hit_ratio": {"sessions": 0.8},
    "backing": {"sessions": "users-db"},
    "calls": {
        "frontend->sessions": 1.0,
        "frontend->cart": 1.0,
        "frontend->recommend": 0.4,
        "cart->orders": 0.7,
        "orders->orders-db": 1.0,
        "orders->payments": 0.5,
    },
    "retries": {"orders->payments": {"retries": 1, "backoff_ms": 10.0}},
    "workload": {"service": "frontend", "operation": "GET /checkout"},
}


class SeededIds(IdGenerator):
    """Span and trace ids from the timeline's generator, so a seed gives the same ids."""

    def __init__(self, rng):
        self.rng = rng

    def generate_span_id(self):
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self):
        return self.rng.getrandbits(128) or 1


class Shop:
    def __init__(self, rng, slow):
        self.rng = rng
        self.slow = slow
        self.exporter = InMemorySpanExporter()
        self.tracers = {}
        ids = SeededIds(rng)
        for service, spec in TRUTH["services"].items():
            for zone in ZONES:
                for i in range(spec["instances"]):
                    instance = f"{service}-{zone}-{i}"
                    resource = Resource.create({
                        "service.name": service,
                        "service.instance.id": instance,
                        "cloud.availability_zone": zone,
                        "k8s.node.name": f"node-{zone}-{i}",
                    })
                    provider = TracerProvider(resource=resource, id_generator=ids)
                    provider.add_span_processor(SimpleSpanProcessor(self.exporter))
                    self.tracers.setdefault((service, zone), []).append(
                        provider.get_tracer("gen-traces", "1.0"))

    def tracer(self, service, zone):
        return self.rng.choice(self.tracers[(service, zone)])

    def self_time(self, service):
        spec = TRUTH["services"][service]["self"]
        factor = 2.0 if service == self.slow else 1.0
        if spec["dist"] == "lognormal":
            value = lognormal(self.rng, spec["median_ms"], spec["p99_ms"])
        elif spec["dist"] == "exponential":
            value = self.rng.expovariate(1.0 / spec["mean_ms"])
        else:
            value = spec["value_ms"]
        return round(value * factor * MS)

    def serve(self, service, zone, start, parent, name, attributes):
        """A server span of `service` from `start`: its own work, then its calls in order.
        Returns (end, failed)."""
        tracer = self.tracer(service, zone)
        kind = SpanKind.SERVER
        span = tracer.start_span(name, context=parent, kind=kind, attributes=attributes, start_time=start)
        ctx = trace.set_span_in_context(span)
        now = start + self.self_time(service)
        failed = False
        for call in CALLS[service]:
            now, call_failed = call(self, tracer, ctx, zone, now)
            failed = failed or call_failed
            if failed:
                break
        if failed:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=now)
        return now, failed

    def call_service(self, tracer, ctx, zone, start, callee, route):
        client = tracer.start_span(f"GET {route}", context=ctx, kind=SpanKind.CLIENT,
                                   attributes={"server.address": f"{callee}.internal",
                                               "http.request.method": "GET"},
                                   start_time=start)
        end, failed = self.serve(callee, zone, start + NET_NS, trace.set_span_in_context(client),
                                 f"GET {route}", {"http.route": route, "http.request.method": "GET"})
        if failed:
            client.set_status(Status(StatusCode.ERROR))
        client.end(end_time=end + NET_NS)
        return end + NET_NS, failed

    def call_leaf(self, tracer, ctx, start, leaf, name, attributes):
        spec = TRUTH["leaves"][leaf]
        latency = round(lognormal(self.rng, spec["latency"]["median_ms"], spec["latency"]["p99_ms"]) * MS)
        failed = self.rng.random() < spec.get("error_rate", 0.0)
        span = tracer.start_span(name, context=ctx, kind=SpanKind.CLIENT,
                                 attributes=dict(attributes, **{"peer.service": leaf}), start_time=start)
        if failed:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=start + latency)
        return start + latency, failed


def lognormal(rng, median, p99):
    return rng.lognormvariate(math.log(median), math.log(p99 / median) / Z99)


def frontend_sessions(shop, tracer, ctx, zone, now):
    now, failed = shop.call_leaf(tracer, ctx, now, "sessions", "GET",
                                 {"db.system": "redis", "server.address": "sessions.internal"})
    if not failed and shop.rng.random() >= TRUTH["hit_ratio"]["sessions"]:
        now, failed = shop.call_leaf(tracer, ctx, now, "users-db", "SELECT users",
                                     {"db.system": "postgresql", "server.address": "users-db.internal"})
    return now, failed


def frontend_cart(shop, tracer, ctx, zone, now):
    return shop.call_service(tracer, ctx, zone, now, "cart", "/cart")


def frontend_recommend(shop, tracer, ctx, zone, now):
    if shop.rng.random() >= TRUTH["calls"]["frontend->recommend"]:
        return now, False
    return shop.call_service(tracer, ctx, zone, now, "recommend", "/recommend")


def cart_orders(shop, tracer, ctx, zone, now):
    if shop.rng.random() >= TRUTH["calls"]["cart->orders"]:
        return now, False
    return shop.call_service(tracer, ctx, zone, now, "orders", "/orders")


def orders_db(shop, tracer, ctx, zone, now):
    return shop.call_leaf(tracer, ctx, now, "orders-db", "INSERT orders",
                          {"db.system": "postgresql", "server.address": "orders-db.internal"})


def orders_payments(shop, tracer, ctx, zone, now):
    if shop.rng.random() >= TRUTH["calls"]["orders->payments"]:
        return now, False
    policy = TRUTH["retries"]["orders->payments"]
    for attempt in range(policy["retries"] + 1):
        if attempt > 0:
            now += round(policy["backoff_ms"] * MS)
        now, failed = shop.call_leaf(tracer, ctx, now, "payments", "POST /charge",
                                     {"server.address": "api.payments.example"})
        if not failed:
            break
    return now, failed


CALLS = {
    "frontend": [frontend_sessions, frontend_cart, frontend_recommend],
    "cart": [cart_orders],
    "orders": [orders_db, orders_payments],
    "recommend": [],
}


def hex_ids(value):
    """Rewrites protobuf's base64 bytes fields to OTLP JSON's hex, in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                value[key] = base64.b64decode(item).hex()
            else:
                hex_ids(item)
    elif isinstance(value, list):
        for item in value:
            hex_ids(item)


def write_otlp(spans, path, batch=128):
    with open(path, "w") as out:
        for i in range(0, len(spans), batch):
            request = encode_spans(spans[i:i + batch])
            document = json_format.MessageToDict(request, use_integers_for_enums=True)
            hex_ids(document)
            out.write(json.dumps(document, separators=(",", ":")) + "\n")


def write_zipkin(spans, path):
    encoder = JsonV2Encoder()
    encoded = []
    for span in spans:
        endpoint = NodeEndpoint()
        endpoint.service_name = span.resource.attributes["service.name"]
        encoded.extend(json.loads(encoder.serialize([span], endpoint)))
    with open(path, "w") as out:
        json.dump(encoded, out, separators=(",", ":"))
        out.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--traces", type=int, default=100)
    parser.add_argument("--rate", type=float, default=TRUTH["rate_per_s"])
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--slow", help="a service whose self time is doubled")
    parser.add_argument("--formats", default="otlp,zipkin", help="which files to write")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shop = Shop(rng, args.slow)
    now = EPOCH_NS
    for _ in range(args.traces):
        now += round(rng.expovariate(args.rate) * 1e9)
        zone = rng.choice(ZONES)
        shop.serve("frontend", zone, now, None, "GET /checkout",
                   {"http.route": "/checkout", "http.request.method": "GET"})
    # Exporters see spans as they end.
    spans = sorted(shop.exporter.get_finished_spans(), key=lambda s: (s.end_time, s.context.span_id))
    os.makedirs(args.out, exist_ok=True)
    formats = args.formats.split(",")
    if "otlp" in formats:
        write_otlp(spans, os.path.join(args.out, "otlp.jsonl"))
    if "zipkin" in formats:
        write_zipkin(spans, os.path.join(args.out, "zipkin.json"))
    truth = dict(TRUTH, rate_per_s=args.rate, traces=args.traces, seed=args.seed, slow=args.slow,
                 spans=len(spans), zones=ZONES)
    with open(os.path.join(args.out, "truth.json"), "w") as out:
        json.dump(truth, out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
