"""Octavia's API and its controller worker in one process, for deploy/compat/record_octavia19.py.

Run with the compat virtualenv's Python (it imports Octavia):

    .compat/venv/bin/python deploy/compat/octavia_in_process.py CONFIG_FILE WORK_DIR

One process because oslo.messaging's `fake://` transport reaches only within a process: the
amphora provider driver casts to the worker's RPC server through the one transport that
`octavia.common.rpc.init()` made, and no message bus has to run. The worker's compute, network,
amphora, image and volume drivers are Octavia's noop drivers (set in CONFIG_FILE), so load
balancers reach ACTIVE through Octavia's real flows without a cloud.

Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import signal
import socketserver
import sys
import threading
from pathlib import Path
from wsgiref import simple_server


def keep_noop_store_in(work_dir: Path) -> None:
    """The noop compute and network drivers share a SQLite file at a fixed path under /tmp;
    this run's goes in its work dir instead, so it is removed with it."""
    import sqlalchemy
    from octavia.compute.drivers.noop_driver import driver as compute_noop
    from octavia.network.drivers.noop_driver import driver as network_noop

    store = f"sqlite:///{work_dir / 'noop-drivers.db'}"

    def create_engine(_url: str, **kwargs):
        return sqlalchemy.create_engine(store, **kwargs)

    compute_noop.create_engine = create_engine
    network_noop.create_engine = create_engine


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write(f"api: {format % args}\n")


def main(config_file: str, work_dir: str) -> int:
    keep_noop_store_in(Path(work_dir))

    from octavia.api import app as api_app
    from octavia.controller.queue.v2 import consumer
    from oslo_config import cfg

    # setup_app runs prepare_service: the config, logging, and rpc.init() (the fake transport).
    app = api_app.setup_app(argv=["octavia-compat", "--config-file", config_file])
    worker = consumer.ConsumerService(0, cfg.CONF)
    worker.run()

    settings = cfg.CONF.api_settings
    httpd = simple_server.make_server(
        settings.bind_host,
        settings.bind_port,
        app,
        server_class=_Server,
        handler_class=_QuietHandler,
    )

    def stop(_signum, _frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"serving on {settings.bind_host}:{settings.bind_port}\n")
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
        worker.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
