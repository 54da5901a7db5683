"""Gunicorn settings for the OSS app servers: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or with ``GUNICORN_CMD_ARGS``; the
reasons for each are in docs/deploy.md.
"""
import glob
import multiprocessing
import os

bind = os.environ.get("OSS_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one database connection for its whole life, and the
# reverse proxy buffers slow clients so a worker is never tied up by one.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
# A batch of 500 updates takes well under a second; 30 s is a stuck worker, not a slow one.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 20000
max_requests_jitter = 2000
# Request line and headers: generous for browsers, small enough to refuse header abuse.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The app writes one JSON access line per request (with its request id and duration), so
# gunicorn's own access log stays off unless asked for with --access-logfile.
accesslog = None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = "info"
# Gunicorn's lines as JSON objects, like the app's (see oss_server/ops/gunicorn_logging.py).
logger_class = "oss_server.ops.gunicorn_logging.JsonLogger"


def on_starting(server):
    """Start the multiprocess metrics from zero: old files would add dead workers' counts."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


def post_worker_init(worker):
    """Once the app is loaded: the collector tuned for serving (oss_server/ops/collector.py)."""
    from oss_server.ops.collector import tune_for_serving

    tune_for_serving()


def child_exit(server, worker):
    """Tell the metrics that a worker is gone (its counters stay, its gauges go)."""
    from oss_server.ops.metrics import worker_exit

    worker_exit(worker.pid)
