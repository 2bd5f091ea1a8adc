"""What every service of the reference system shares: a bounded worker pool behind an HTTP
server, outgoing calls with a timeout and retries, and OpenTelemetry tracing written as OTLP
JSON lines (one ExportTraceServiceRequest per line, as the Collector's file exporter writes
them, ids in hex as the OTLP JSON spec requires).

Loopback only: every server binds 127.0.0.1 and every call goes to 127.0.0.1.
"""

import http.client
import json
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

LOOPBACK = "127.0.0.1"


# --- OTLP JSON ------------------------------------------------------------------------------

def _any_value(value):
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(attrs):
    return [{"key": k, "value": _any_value(v)} for k, v in sorted((attrs or {}).items())]


_KINDS = {SpanKind.INTERNAL: 1, SpanKind.SERVER: 2, SpanKind.CLIENT: 3,
          SpanKind.PRODUCER: 4, SpanKind.CONSUMER: 5}
_STATUS = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}


def _span_json(span):
    out = {
        "traceId": format(span.context.trace_id, "032x"),
        "spanId": format(span.context.span_id, "016x"),
        "name": span.name,
        "kind": _KINDS[span.kind],
        "startTimeUnixNano": str(span.start_time),
        "endTimeUnixNano": str(span.end_time),
        "attributes": _attributes(span.attributes),
        "status": {"code": _STATUS[span.status.status_code]},
    }
    if span.status.description:
        # Why an attempt failed (`timeout`, `refused`, `TimeoutError`, ...): the study tells
        # timed-out attempts from the others by it (calibrate.overshoot).
        out["status"]["message"] = span.status.description
    if span.parent is not None:
        out["parentSpanId"] = format(span.parent.span_id, "016x")
    return out


class OtlpJsonFileExporter(SpanExporter):
    """Appends each batch as one OTLP JSON ExportTraceServiceRequest line."""

    def __init__(self, path, resource):
        self.file = open(path, "a", encoding="utf-8")
        self.resource = {"attributes": _attributes(dict(resource.attributes))}
        self.lock = threading.Lock()

    def export(self, spans):
        request = {"resourceSpans": [{
            "resource": self.resource,
            "scopeSpans": [{"scope": {"name": "refsys", "version": "1"},
                            "spans": [_span_json(s) for s in spans]}],
        }]}
        with self.lock:
            self.file.write(json.dumps(request, separators=(",", ":")) + "\n")
            self.file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        with self.lock:
            self.file.close()


def make_tracer(service, instance, zone):
    """A tracer writing to $TRACE_FILE (no tracing when unset)."""
    resource = Resource.create({"service.name": service, "service.instance.id": instance,
                                "cloud.availability_zone": zone})
    provider = TracerProvider(resource=resource)
    path = os.environ.get("TRACE_FILE")
    if path:
        provider.add_span_processor(BatchSpanProcessor(
            OtlpJsonFileExporter(path, resource), max_queue_size=8192,
            schedule_delay_millis=1000))
    shutdown_on_signal(provider)
    return provider.get_tracer("refsys", "1")


def shutdown_on_signal(provider):
    """SIGTERM flushes the spans and exits; SIGKILL (the crash fault) loses the last batch."""
    def handler(_sig, _frame):
        provider.shutdown()
        os._exit(0)
    signal.signal(signal.SIGTERM, handler)


# --- the bounded worker pool ----------------------------------------------------------------

class PooledServer:
    """An HTTP/1.0 server with `workers` threads and a waiting room of `queue` connections;
    a connection arriving to a full waiting room gets 503 at once (the model's rejection)."""

    def __init__(self, port, handler_class, workers, queue_len):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.listen(1024)
        self.handler_class = handler_class
        self.waiting = queue.Queue(maxsize=queue_len)
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def serve_forever(self):
        for worker in self.workers:
            worker.start()
        while True:
            conn, addr = self.sock.accept()
            try:
                self.waiting.put_nowait((conn, addr, time.time_ns()))
            except queue.Full:
                reject(conn)

    def _work(self):
        while True:
            conn, addr, queued_ns = self.waiting.get()
            try:
                conn.settimeout(10)
                self.handler_class(conn, addr, self, queued_ns)
            except Exception:  # a broken connection must not kill the worker
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass


def reject(conn):
    try:
        conn.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 8\r\n\r\nrejected")
    except OSError:
        pass
    conn.close()


class Handler(BaseHTTPRequestHandler):
    """Parses the request and hands it to `self.app(path)` -> (status, body) inside a SERVER
    span whose parent comes from the caller's traceparent."""

    protocol_version = "HTTP/1.0"
    app = None
    tracer = None

    def __init__(self, conn, addr, server, queued_ns):
        self.queued_ns = queued_ns
        super().__init__(conn, addr, server)

    def log_message(self, *args):
        pass

    def do_GET(self):
        parent = propagate.extract(dict(self.headers))
        with self.tracer.start_as_current_span(
                f"GET {self.path.split('?')[0]}", context=parent, kind=SpanKind.SERVER,
                attributes={"http.request.method": "GET", "url.path": self.path,
                            "refsys.queue_ns": time.time_ns() - self.queued_ns}) as span:
            status, body = type(self).app(self.path)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# --- outgoing calls -------------------------------------------------------------------------

class CallFailed(Exception):
    """An outgoing call that ended without a 2xx answer: `refused` when nothing listens."""

    def __init__(self, why, refused=False):
        super().__init__(why)
        self.refused = refused


def http_get(tracer, peer, port, path, timeout_s):
    """One attempt: a CLIENT span, the traceparent header, a socket timeout of `timeout_s`
    spread over connect, send and the answer (a deadline, as the model's call timeout)."""
    deadline = time.monotonic() + timeout_s
    with tracer.start_as_current_span(
            f"GET {path.split('?')[0]}", kind=SpanKind.CLIENT,
            attributes={"peer.service": peer, "server.address": LOOPBACK,
                        "server.port": port}) as span:
        headers = {}
        propagate.inject(headers)
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
        try:
            conn.connect()
            conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            conn.request("GET", path, headers=headers)
            conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            resp = conn.getresponse()
            body = resp.read().decode()
        except ConnectionRefusedError:
            span.set_status(Status(StatusCode.ERROR, "refused"))
            raise CallFailed("refused", refused=True)
        except (socket.timeout, TimeoutError):
            span.set_status(Status(StatusCode.ERROR, "timeout"))
            raise CallFailed("timeout")
        except OSError as err:
            span.set_status(Status(StatusCode.ERROR, type(err).__name__))
            raise CallFailed(type(err).__name__)
        finally:
            conn.close()
        span.set_attribute("http.response.status_code", resp.status)
        if resp.status >= 300:
            span.set_status(Status(StatusCode.ERROR))
            raise CallFailed(f"status {resp.status}")
        return body


def with_retries(attempt, retries, backoff_s):
    """`attempt()` up to 1 + `retries` times, `backoff_s` apart (no jitter, as the model)."""
    for k in range(retries + 1):
        try:
            return attempt()
        except CallFailed:
            if k == retries:
                raise
            time.sleep(backoff_s)


def sleep_exponential(rng, mean_s):
    """The service's own work: a sleep, so it costs no CPU on a shared 2-core machine."""
    time.sleep(rng.expovariate(1.0 / mean_s))


def arg_map(argv):
    """`--key value` pairs into a dict of strings."""
    out = {}
    for i in range(1, len(argv), 2):
        out[argv[i].lstrip("-")] = argv[i + 1]
    return out


def serve(port, app, tracer, workers, queue_len):
    handler = type("AppHandler", (Handler,), {"app": staticmethod(app), "tracer": tracer})
    server = PooledServer(port, handler, workers, queue_len)
    print(f"listening on {LOOPBACK}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


def rng_for(name):
    return random.Random(hash(name) & 0xFFFFFFFF)


def current_context():
    return otel_context.get_current()
