"""The baseline: a Flask hello-world, served exactly like the OSS."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """Answer with a constant."""
    return "Hello, World!"
