"""cart: GET /cart does its own work (a sleep, exponential, mean 2 ms) and reads the cart
from Redis with redis-py, with the model's timeout (socket connect and read timeouts) and
retries (ours, redis-py's own retries off, so the attempts are the model's).
"""

import random
import sys
import time

import redis
from opentelemetry.trace import SpanKind, Status, StatusCode
from redis.backoff import NoBackoff
from redis.retry import Retry

import common
import config


def main():
    args = common.arg_map(sys.argv)
    model = config.load_model(args["model"])
    zone, ports = args["zone"], config.ports()
    me = config.node(model, "cart")
    tracer = common.make_tracer("cart", f"cart-{zone}", zone)
    timeout_s, retries, backoff_s = config.call(model, "cart", "redis")
    client = redis.Redis(host=common.LOOPBACK, port=ports["redis"], socket_timeout=timeout_s,
                         socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
                         max_connections=me["workers"] + 4)
    rng = random.Random()

    def attempt(key):
        with tracer.start_as_current_span(
                "GET", kind=SpanKind.CLIENT,
                attributes={"db.system": "redis", "peer.service": "redis",
                            "server.address": common.LOOPBACK, "server.port": ports["redis"]}) as span:
            try:
                return client.get(key) or b""
            except redis.RedisError as err:
                span.set_status(Status(StatusCode.ERROR, type(err).__name__))
                return None

    def app(path):
        if not path.startswith("/cart"):
            return 404, "no such path"
        common.sleep_exponential(rng, 0.002)
        key = f"cart:{rng.randrange(1, 1001)}"
        for k in range(retries + 1):
            value = attempt(key)
            if value is not None:
                return 200, f"{len(value)} bytes"
            if k < retries:
                time.sleep(backoff_s)
        return 503, "redis failed"

    common.serve(ports["cart"][zone], app, tracer, me["workers"], me["queue"])


if __name__ == "__main__":
    main()
