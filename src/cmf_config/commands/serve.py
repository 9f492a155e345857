"""serve: the configurator in the browser and its JSON API, on uvicorn (loopback by default)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import webbrowser

from cmf_config.commands.common import add_common
from cmf_config.errors import ExitCode

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add serve."""
    p = sub.add_parser(
        "serve",
        help="the configurator in the browser, with a JSON API under /api",
        description=(
            "Serve the configurator: every slot as a control showing what is still possible "
            "and which rules exclude the rest, the conflict explanation and the nearest fix, "
            "the bill of materials, the count of buildable vehicles, the closest catalog "
            "vehicles and the vehicle diagram; a JSON API under /api (docs/serve.md). "
            "Listens on 127.0.0.1 unless --host says otherwise."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes, each with its own compiled engine (default: 1)",
    )
    p.add_argument(
        "--max-upload",
        type=int,
        default=1_000_000,
        metavar="BYTES",
        help="largest request body accepted, in bytes (default: 1000000)",
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    add_common(p, formats=False)
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """serve [--catalog DIR] [--rules DIR] [--host H] [--port P] [--workers N] [--open]."""
    import uvicorn

    from cmf_config import report
    from cmf_config.web.app import create_app

    if not 0 <= args.port <= 65535:
        raise report.usage_error("port", port=args.port)
    if args.workers < 1:
        raise report.usage_error("workers")
    if args.max_upload < 1:
        raise report.usage_error("max-upload")
    if args.host not in LOOPBACK:
        sys.stderr.write(report.public_host_warning(args.host))
    if args.workers > 1:
        # Each worker process builds its own app (and compiles the catalog) from these settings.
        os.environ["CMF_CONFIG_CATALOG"] = str(args.catalog or "")
        os.environ["CMF_CONFIG_RULES"] = str(args.rules or "")
        os.environ["CMF_CONFIG_MAX_UPLOAD"] = str(args.max_upload)
        create_app(args.catalog, args.rules, args.max_upload)  # fail here, not in every worker
        target: object = "cmf_config.web.app:app_from_environment"
    else:
        target = create_app(args.catalog, args.rules, args.max_upload)
    sock = _listen(args.host, args.port)
    # The port actually bound (`--port 0` lets the system pick one), so the URL is usable.
    port = sock.getsockname()[1]
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{port}/"
    sys.stderr.write(report.serving_text(url))
    sys.stderr.flush()
    config = uvicorn.Config(
        target,  # type: ignore[arg-type]
        host=args.host,
        port=port,
        workers=args.workers,
        factory=args.workers > 1,
        log_level="warning",
        limit_concurrency=200,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    if args.open:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        if args.workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    finally:
        sock.close()
    return ExitCode.OK


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (as uvicorn binds one), shared by every worker."""
    from cmf_config import report

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise report.usage_error(
            "cannot-listen", host=host, port=port, why=exc.strerror or exc
        ) from exc
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    sock.set_inheritable(True)
    return sock
