"""Shared fixtures: a local HTTP server (tests never reach the internet)."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

import flambeau


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture
def http_root(tmp_path):
    """``(folder, base_url)``: files put in ``folder`` are served at ``base_url`` (127.0.0.1)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _seed():
    flambeau.manual_seed(0)
