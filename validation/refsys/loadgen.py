"""The open-loop load generator: Poisson arrivals at a fixed rate, bounded by a count and a
time, to the frontends on loopback in rotation (the model's entry-zone rotation). Every
request's outcome and latency is written, one JSON line each, when the run ends:

    {"k": 17, "sent": 1.8732, "zone": "az-b", "outcome": "ok", "latency": 0.0612,
     "end": 1.9344, "span": "3f2a..."}

`sent` and `end` are seconds from the generator's start (CLOCK_MONOTONIC). Latency counts
from the scheduled send instant, so a generator that falls behind cannot hide it (no
coordinated omission). outcome: ok | degraded | failed (a 5xx or a broken connection) |
timeout (no answer within the client timeout).

Usage: loadgen.py --rate R --duration S --max N --timeout S --seed N --frontends 18101,18102
       --zones az-a,az-b --out FILE [--start-file FILE]
"""

import asyncio
import json
import random
import sys
import time

LOOPBACK = "127.0.0.1"


async def one_request(port, timeout_s, traceparent):
    """One GET /page: its outcome."""
    async def exchange():
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        try:
            writer.write(b"GET /page HTTP/1.0\r\nHost: frontend\r\ntraceparent: "
                         + traceparent.encode() + b"\r\n\r\n")
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        return data

    try:
        data = await asyncio.wait_for(exchange(), timeout_s)
    except asyncio.TimeoutError:
        return "timeout"
    except OSError:
        return "failed"
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200") and not head.startswith(b"HTTP/1.1 200"):
        return "failed"
    return "degraded" if body == b"degraded" else "ok"


async def run(args):
    rng = random.Random(int(args["seed"]))
    # The client span of each request, sent as its traceparent, so the calibration can join
    # a request's measured latency to the frontend's server span (the hop's overhead).
    ids = random.Random(int(args["seed"]) + 1)
    rate, duration = float(args["rate"]), float(args["duration"])
    limit, timeout_s = int(args["max"]), float(args["timeout"])
    ports = [int(p) for p in args["frontends"].split(",")]
    zones = args["zones"].split(",")
    records, tasks = [], []
    origin = time.monotonic()
    if "start-file" in args:
        with open(args["start-file"], "w") as f:
            f.write(f"{origin:.6f}\n")

    async def fire(k, at, slot, span_id):
        traceparent = f"00-{span_id:032x}-{span_id:016x}-01"
        outcome = await one_request(ports[slot], timeout_s, traceparent)
        end = time.monotonic() - origin
        records.append({"k": k, "sent": round(at, 6), "zone": zones[slot], "outcome": outcome,
                        "latency": round(end - at, 6), "end": round(end, 6),
                        "span": f"{span_id:016x}"})

    at = 0.0
    for k in range(limit):
        at += rng.expovariate(rate)
        if at >= duration:
            break
        delay = at - (time.monotonic() - origin)
        if delay > 0:
            await asyncio.sleep(delay)
        span_id = ids.getrandbits(64) or 1
        tasks.append(asyncio.create_task(fire(k, at, k % len(ports), span_id)))
    await asyncio.gather(*tasks)
    records.sort(key=lambda r: r["k"])
    with open(args["out"], "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    print(f"loadgen: {len(records)} requests", file=sys.stderr)


def main():
    argv = sys.argv[1:]
    args = {argv[i].lstrip("-"): argv[i + 1] for i in range(0, len(argv), 2)}
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
