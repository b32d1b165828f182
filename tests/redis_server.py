"""A real ``redis-server`` on 127.0.0.1 for the tests of the shared rate limiter.

The binary comes from ``$REDIS_SERVER``, else ``redis-server`` on the PATH (Debian:
``apt-get install redis-server``; CI installs it). It runs on a free port from a temporary
directory with persistence off, and is stopped when the block ends. Where no binary can be
found, the tests that need it are skipped with a message that says how to get one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

__all__ = ["RedisServer", "redis_binary", "running_redis"]

# Debian puts the binary in /usr/bin; some images only have /usr/sbin on root's PATH.
_FALLBACKS = ("/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server")


def redis_binary() -> str | None:
    """The redis-server to run, or None if there is none on this machine."""
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    return next((path for path in _FALLBACKS if os.access(path, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A started redis-server: its ``port``, ``url`` and process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        """Stop the server (it restarts nowhere: a test of an unreachable Redis uses this)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start a redis-server for the block; skips the test if none is installed."""
    binary = redis_binary()
    if binary is None:
        pytest.skip(
            "redis-server not found: install it (Debian: apt-get install redis-server) "
            "or set REDIS_SERVER to its path"
        )
    with tempfile.TemporaryDirectory(prefix="grok-redis-") as workdir:
        for _ in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            process = subprocess.Popen(
                [
                    binary,
                    "--port", str(port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", workdir,
                    "--daemonize", "no",
                    "--loglevel", "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            server = RedisServer(process, port)
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline:
                if _answers_ping(port):
                    break
                time.sleep(0.02)
            if process.poll() is None and _answers_ping(port):
                try:
                    yield server
                finally:
                    server.stop()
                    assert process.stderr is not None
                    process.stderr.close()
                return
            server.stop()
            assert process.stderr is not None
            error = process.stderr.read().decode(errors="replace")
            process.stderr.close()
        raise RuntimeError(f"redis-server ({binary}) did not start: {error.strip()}")
