"""`appliance serve`: the web chat and the OpenAI-compatible API under gunicorn.

gunicorn's gthread worker: each worker process loads its own model (one llama context behind
the fair queue) and serves `web_threads` connections at once; a streamed answer holds one.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the web chat and the OpenAI-compatible API")
    p.add_argument("--host", help="address to listen on (default: the web_host setting)")
    p.add_argument("--port", type=int, help="port (default: the web_port setting)")
    p.add_argument("--workers", type=int, help="worker processes, one model each "
                                               "(default: the web_workers setting)")
    p.add_argument("--threads", type=int, help="connections per worker (default: web_threads)")
    p.set_defaults(func=cmd_serve)


def _settings(args):
    from ..settings import load_settings

    return load_settings(overrides={"data_dir": args.data_dir, "web_host": args.host,
                                    "web_port": args.port, "web_workers": args.workers,
                                    "web_threads": args.threads},
                         settings_file=args.settings)


def cmd_serve(args) -> int:
    settings = _settings(args)
    prepare_metrics_dir(settings.data_dir)  # before anything imports prometheus_client
    from ..services import build_services

    # Migrate and open the audit log once in the master, before any worker forks.
    services = build_services(settings)
    try:
        has_admin = any(u.role == "admin" for u in services.accounts.users())
    finally:
        services.close()
    url = f"http://{settings.web_host}:{settings.web_port}"
    print(f"Serving the appliance at {url}  (workers {settings.web_workers}, "
          f"threads {settings.web_threads}; Ctrl-C stops)")
    if has_admin:
        print(f"Log in as {settings.admin_username!r} with the password `appliance init` "
              f"printed; to set a new one: appliance --data-dir {settings.data_dir} users "
              f"passwd {settings.admin_username}")
    else:
        print("No administrator exists yet: run `appliance init` first.", file=sys.stderr)
    if not settings.web_secure_cookies:
        print("web_secure_cookies is off: session cookies may travel over plain HTTP.")
    sys.stdout.flush()
    _GunicornApp(settings).run()
    return 0


class _GunicornApp(BaseApplication):
    """gunicorn, configured from Settings rather than its command line."""

    def __init__(self, settings):
        self.settings = settings
        super().__init__(usage="appliance serve", prog="appliance")

    def load_config(self) -> None:
        s = self.settings
        options = {
            "bind": f"{s.web_host}:{s.web_port}",
            "workers": s.web_workers,
            "worker_class": "gthread",
            "threads": s.web_threads,
            "timeout": 120,          # worker heartbeat, not request length: streams run longer
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,       # privacy: no request log unless an operator adds one
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "appliance",
            "worker_exit": _worker_exit,
            "child_exit": child_exit,
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25: no runtime
            options["control_socket_disable"] = True      # control socket in $HOME
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from ..app import create_app

        return create_app(self.settings, warm=True)  # in the worker, after the fork


def _worker_exit(server, worker) -> None:
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("appliance") if app is not None else None
    if services is not None:
        services.close()  # final audit checkpoint covers this worker's last events


def prepare_metrics_dir(data_dir: Path) -> Path:
    """An empty `<data_dir>/run/metrics` for prometheus_client's multiprocess mode, named in
    the environment that gunicorn's workers inherit."""
    path = Path(data_dir).resolve() / "run" / "metrics"
    shutil.rmtree(path, ignore_errors=True)  # a previous run's files would still be counted
    path.mkdir(parents=True)
    # The library's own switch, read once at its import (so before any import of it here):
    # with it, one scrape of any worker shows every worker's series. Not an appliance setting.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def child_exit(server, worker) -> None:
    """In the master, after a worker exited: drop its live gauges from the metrics."""
    from prometheus_client import multiprocess

    # Its counters and histograms stay (totals never go down); its queue gauges are over.
    multiprocess.mark_process_dead(worker.pid)
