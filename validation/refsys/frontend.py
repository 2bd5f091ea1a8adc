"""frontend: GET /page calls catalog (required), cart (optional: the page renders without it,
degraded) and pricing (required), in order, each with the model's timeout and retries.
Answers 200 `ok`, 200 `degraded` or 502.

Routing as the model's balancer: the instance in the caller's zone, the other zone's when the
local one refuses connections (a dead process), which is not counted as a retry.
"""

import sys

import common
import config


def call_zonal(tracer, name, instances, path, timeout_s):
    for k, port in enumerate(instances):
        try:
            return common.http_get(tracer, name, port, path, timeout_s)
        except common.CallFailed as failed:
            if not failed.refused or k == len(instances) - 1:
                raise


def main():
    args = common.arg_map(sys.argv)
    model = config.load_model(args["model"])
    zone, ports = args["zone"], config.ports()
    me = config.node(model, "frontend")
    tracer = common.make_tracer("frontend", f"frontend-{zone}", zone)
    catalog = config.zone_ports(ports, "catalog", zone)
    cart = config.zone_ports(ports, "cart", zone)
    cat_t, cat_r, cat_b = config.call(model, "frontend", "catalog")
    cart_t, cart_r, cart_b = config.call(model, "frontend", "cart")
    pr_t, pr_r, pr_b = config.call(model, "frontend", "pricing")

    def app(path):
        if not path.startswith("/page"):
            return 404, "no such page"
        degraded = False
        try:
            common.with_retries(lambda: call_zonal(tracer, "catalog", catalog, "/item", cat_t),
                                cat_r, cat_b)
        except common.CallFailed:
            return 502, "catalog failed"
        try:
            common.with_retries(lambda: call_zonal(tracer, "cart", cart, "/cart", cart_t),
                                cart_r, cart_b)
        except common.CallFailed:
            degraded = True
        try:
            common.with_retries(
                lambda: common.http_get(tracer, "pricing", ports["pricing"], "/price", pr_t),
                pr_r, pr_b)
        except common.CallFailed:
            return 502, "pricing failed"
        return 200, "degraded" if degraded else "ok"

    common.serve(ports["frontend"][zone], app, tracer, me["workers"], me["queue"])


if __name__ == "__main__":
    main()
