"""Running the app: ``susurrus serve`` (uvicorn), and a background server for tests and benchmarks."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .settings import ServerSettings, is_loopback


@dataclass
class RunningServer:
    """A server started by :func:`serve_in_thread`; ``stop()`` shuts it down."""

    url: str
    settings: ServerSettings
    _server: Any
    _thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit TCP_NODELAY (Linux): without it a response's head and
    # body, written separately, wait ~40 ms for the client's delayed ACK (Nagle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ParameterError("port", port, f"a free port on {host} ({exc.strerror})") from None
    sock.listen(128)
    return sock


def _server(settings: ServerSettings) -> Any:
    import uvicorn

    from .app import create_app

    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=2, lifespan="on")
    return uvicorn.Server(config)


def serve_in_thread(settings: ServerSettings, *, port: int | None = None, timeout: float = 20.0) -> RunningServer:
    """Start the app on ``settings.host`` in a daemon thread (``port=0``: any free port)."""
    sock = _bind(settings.host, settings.port if port is None else port)
    real_port = sock.getsockname()[1]
    settings.port = real_port
    server = _server(settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="susurrus-serve")
    thread.start()
    t0 = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - t0 > timeout:
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return RunningServer(f"http://{host}:{real_port}", settings, server, thread)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..store.paths import data_dir

    if args.auth == "token" and not is_loopback(args.host):
        raise ParameterError("--host", args.host, "127.0.0.1 / ::1 / localhost, unless --auth accounts")
    kw: dict[str, Any] = {}
    if args.token:
        kw["token"] = args.token
    elif os.environ.get("SUSURRUS_TOKEN"):
        kw["token"] = os.environ["SUSURRUS_TOKEN"]
    settings = ServerSettings(data_dir=Path(args.data_dir) if args.data_dir else data_dir(),
                              database_url=os.environ.get("SUSURRUS_DATABASE_URL") or None,
                              host=args.host, port=args.port, auth=args.auth,
                              allow_hosts=tuple(args.allow_host or ()), max_upload_mb=args.max_upload_mb, **kw)
    sock = _bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    if settings.auth == "token":
        url = f"http://{host}:{port}/?token={settings.token}"
        print(f"Susurrus is listening on {host}:{port} (this computer only).\n"
              f"Open this link in your browser (it carries the access token):\n\n    {url}\n", flush=True)
    else:
        url = f"http://{host}:{port}/"
        print(f"Susurrus is listening on {host}:{port}, accounts mode. Add an account with "
              f"`susurrus accounts add NAME`.\n\n    {url}\n", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    if args.open:
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    server = _server(settings)
    server.run(sockets=[sock])
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from ..store import open_store
    from .security import create_account

    store = open_store()
    try:
        if args.accounts_cmd == "add":
            pw = os.environ.get("SUSURRUS_PASSWORD")
            if pw is None:
                if not sys.stdin.isatty():
                    pw = sys.stdin.readline().rstrip("\n")
                else:
                    pw = getpass.getpass(f"password for {args.username}: ")
                    if getpass.getpass("again: ") != pw:
                        raise ParameterError("password", "<hidden>", "the same password twice")
            acc = create_account(store, args.username, pw)
            print(f"account {args.username} created (id {acc})")
        else:
            from sqlalchemy import select

            from ..store import Account

            with store.session() as s:
                for name in s.execute(select(Account.username).order_by(Account.username)).scalars():
                    print(name)
    finally:
        store.close()
    return 0


def add_serve_parsers(sub: Any, *, parser_class: Any = None) -> None:
    kw = {"parser_class": parser_class} if parser_class else {}
    p = sub.add_parser("serve", help="run the web app on this computer (http://127.0.0.1:8000)",
                       description="Run the web app. By default it listens on 127.0.0.1 only and prints "
                                   "a link with a random access token.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other "
                   "address needs --auth accounts)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    p.add_argument("--auth", choices=("token", "accounts"), default="token",
                   help="token: one access token (default); accounts: user names and passwords")
    p.add_argument("--token", help="use this access token instead of a random one (or SUSURRUS_TOKEN)")
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="also accept this host name in the Host header (repeatable)")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="upload size limit (default 200)")
    p.add_argument("--data-dir", help="where the database and files live (default: the user data directory)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=cmd_serve)

    a = sub.add_parser("accounts", help="manage web-app accounts (for serve --auth accounts)")
    asub = a.add_subparsers(dest="accounts_cmd", required=True, **kw)
    add = asub.add_parser("add", help="add an account (password from SUSURRUS_PASSWORD, stdin or a prompt)")
    add.add_argument("username")
    asub.add_parser("list", help="list the accounts")
    a.set_defaults(func=cmd_accounts)
