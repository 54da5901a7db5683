"""One benchmark database: create it, build the app on it, make a store and a key."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("OSS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB_NAME = "oss_bench"
SECRET_KEY = "bench-secret-key"
FACTOR_KEY = "bench-factor-key"
SLUG = "bench"
PASSWORD = "bench-password-123"


@dataclass
class BenchDb:
    kind: str
    url: str
    workdir: str

    def environ(self, **extra) -> dict:
        """Environment that points an ``oss_server`` process at this database."""
        env = dict(os.environ)
        env.update(OSS_DATABASE_URL=self.url, OSS_SECRET_KEY=SECRET_KEY,
                   OSS_FACTOR_KEY=FACTOR_KEY, OSS_ENV="production",
                   # Limits guard production; the benchmark measures the work behind them.
                   OSS_API_RATE_LIMIT="1000000 per minute",
                   OSS_LOOKUP_LIMIT_PER_IP="1000000 per minute",
                   OSS_LOOKUP_LIMIT_PER_ORDER="1000000 per minute",
                   OSS_BASE_URL="http://127.0.0.1")
        env.update(extra)
        return env


def _pg_admin_engine():
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def create_db(kind: str, workdir: str | None = None) -> BenchDb:
    """Create an empty database of *kind* ('sqlite' or 'postgresql')."""
    workdir = workdir or tempfile.mkdtemp(prefix="oss-bench-")
    if kind == "sqlite":
        return BenchDb(kind, "sqlite:///" + os.path.join(workdir, "bench.db"), workdir)
    engine = _pg_admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {PG_DB_NAME}"))
    engine.dispose()
    url = make_url(PG_ADMIN_URL).set(database=PG_DB_NAME)
    return BenchDb(kind, url.render_as_string(hide_password=False), workdir)


def drop_db(bench: BenchDb) -> None:
    """Remove what create_db made (the SQLite file goes with its directory)."""
    if bench.kind == "postgresql":
        engine = _pg_admin_engine()
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB_NAME} WITH (FORCE)"))
        engine.dispose()


def make_app(bench: BenchDb):
    """Return the OSS app bound to *bench* (config as the served processes get it)."""
    from oss_server import create_app

    saved = dict(os.environ)
    os.environ.update(bench.environ())
    try:
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare(app) -> dict:
    """Create the tables, one merchant, one store and one API key; return their ids."""
    from oss_server.extensions import db
    from oss_server.services import accounts, keys

    with app.app_context():
        db.create_all()
        merchant = accounts.create_merchant(db.session, "bench@example.com", PASSWORD,
                                            paid_through=date.today() + timedelta(days=365))
        store = accounts.create_store(db.session, merchant, SLUG, "Bench Store")
        db.session.flush()
        _key, full_key = keys.create_api_key(db.session, store, "bench")
        db.session.commit()
        return {"store_id": store.id, "slug": SLUG, "api_key": full_key}
