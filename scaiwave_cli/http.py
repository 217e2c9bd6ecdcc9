"""Bounded HTTP for the CLI's clients (the JWKS fetch, the sync plugin's ScaiKey client).

httpx's timeouts count each socket operation separately, so a server that trickles one byte
every few seconds keeps a call alive for ever. Here a call has one wall-clock ``Deadline`` that
caps its connect, its writes and every read (``deadline_transport``), ``read_bounded`` reads a
streamed body under that deadline and a byte cap, and ``parse_json`` turns malformed or absurdly
deep JSON into a ``ValueError`` (never a ``RecursionError``). Exposed as ``api.http``.
"""

from __future__ import annotations

import json
import time


class BodyTooLarge(Exception):
    """An answer longer than the cap its reader allows."""


class Deadline:
    """The wall-clock end of one HTTP call: its connect, its writes and every read."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self, timeout: float | None = None, exc=TimeoutError) -> float:
        """Seconds one socket operation may still take (at most ``timeout``), or ``exc``."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise exc(f"no complete answer within the deadline of {self.seconds:g} s")
        return left if timeout is None else min(timeout, left)


def deadline_transport(**kwargs):
    """``(transport, backend)``: an ``httpx.HTTPTransport`` (``kwargs`` as httpx takes them)
    whose connections read, write and connect only until ``backend.deadline`` (a ``Deadline``,
    set before each call; None: httpx's own per-operation timeouts only)."""
    import httpx

    transport = httpx.HTTPTransport(**kwargs)
    backend = _DeadlineBackend()
    transport._pool._network_backend = backend  # httpx has no public hook for httpcore's backend
    return transport, backend


class _DeadlineBackend:
    """httpcore's sync network backend, every socket operation capped by ``deadline``."""

    def __init__(self):
        import httpcore

        self._inner = httpcore.SyncBackend()
        self.deadline: Deadline | None = None

    def left(self, timeout, exc):
        return timeout if self.deadline is None else self.deadline.left(timeout, exc)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        import httpcore

        timeout = self.left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        import httpcore

        timeout = self.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream:
    def __init__(self, stream, backend: _DeadlineBackend):
        self._stream, self._backend = stream, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return self._stream.read(max_bytes, self._backend.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, self._backend.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        import httpcore

        timeout = self._backend.left(timeout, httpcore.ConnectTimeout)
        stream = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


def read_bounded(response, deadline: Deadline, max_bytes: int) -> bytes:
    """The (decoded) body of a streamed httpx ``response``: ``BodyTooLarge`` past ``max_bytes``
    (a declared Content-Length before reading), ``httpx.ReadTimeout`` past ``deadline``."""
    import httpx

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"an answer of {declared} bytes, over the cap of {max_bytes} bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"an answer over the cap of {max_bytes} bytes")
        deadline.left(None, httpx.ReadTimeout)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(data: bytes | str):
    """Decoded JSON; ``ValueError`` for anything malformed, JSON nested too deep included."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
