"""WSGI entry point: ``gunicorn wsgi:app``."""
from oss_server import create_app

app = create_app()
