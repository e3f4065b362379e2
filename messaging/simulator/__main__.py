"""``python -m messaging.simulator --port 8025 [--config sim.yaml] [--scenario s.yaml]``."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from messaging.simulator.app import create_app
from messaging.simulator.config import SimConfig, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m messaging.simulator", description="WhatsApp Cloud API simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--config", help="YAML/JSON file with SimConfig overrides")
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="citizen scenario (YAML/JSON/.py) to run once a number is registered; repeatable",
    )
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    config = load_config(args.config) if args.config else SimConfig()
    if config.public_url is None and args.host not in ("0.0.0.0", "::"):  # noqa: S104
        # Behind 0.0.0.0 the request's Host header gives the right base instead.
        config.public_url = f"http://{args.host}:{args.port}"
    app = create_app(config, scenarios=args.scenario)
    # No access log: at thousands of requests per second it would cost more than the sends.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # nothing sits in front of it; saves work on the hot path
    )


if __name__ == "__main__":
    main()
