"""pricing: the slow third-party stub. GET /price answers after a log-normal latency (median
40 ms, p99 150 ms); GET /fault?errors=SHARE makes that share of calls fail at once with 500
(what a provider's outage looks like), 0 to stop. A thread per call: a third party's capacity
is not ours to bound (the model's `external`).
"""

import math
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import config

MEDIAN_S = 0.040
SIGMA = math.log(0.150 / 0.040) / 2.3263478740408408


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    error_share = 0.0
    rng = random.Random()
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/fault":
            Stub.error_share = float(parse_qs(url.query).get("errors", ["0"])[0])
            return self.answer(200, f"errors={Stub.error_share}")
        with Stub.lock:
            fail = Stub.rng.random() < Stub.error_share
            delay = MEDIAN_S * math.exp(SIGMA * Stub.rng.gauss(0.0, 1.0))
        if fail:
            return self.answer(500, "provider error")
        time.sleep(delay)
        self.answer(200, "42.00")


def main():
    ports = config.ports()
    server = ThreadingHTTPServer(("127.0.0.1", ports["pricing"]), Stub)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{ports['pricing']}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
