"""One authenticated connection to an orch server, shared by every thread of a Manager.

Requests are pipelined: each gets a fresh ``replyAddress`` and waits on its own slot in the
pending map; one reader thread takes frames off the socket and completes the slot whose address
the reply carries. Writes go out under a lock so frames never interleave. When the socket closes,
for whatever reason, every pending request fails with ``ConnectionError`` at once, so no caller
can hang on a dead server.
"""
from __future__ import annotations

import collections
import itertools
import logging
import os
import select
import socket
import ssl
import threading
import time
from typing import Any, Callable, Deque, Dict, Optional, Tuple

from . import _auth, _framing
from .errors import AuthenticationError, from_err_frame

log = logging.getLogger("orch")

#: Seconds without sending before the reader sends a ``ping``; the server closes connections
#: idle for 120 s (PROTOCOL.md §8).
KEEPALIVE_SECONDS = 30.0
#: Longest the reader sleeps in poll(), so deferred releases go out promptly.
_TICK_SECONDS = 1.0
_RECV_BYTES = 256 * 1024

#: Handler of a ``message`` frame to an address this connection registered.
MessageHandler = Callable[[Dict[str, Any]], None]


class _Pending:
    """A request waiting for its reply: a lock the reader releases once the answer is in."""

    __slots__ = ("_done", "body", "error", "callback")

    def __init__(self, callback: Optional[Callable[[Any, Optional[BaseException]], None]] = None):
        self._done = threading.Lock()
        self._done.acquire()
        self.body: Any = None
        self.error: Optional[BaseException] = None
        self.callback = callback

    def complete(self, body: Any, error: Optional[BaseException]) -> None:
        self.body, self.error = body, error
        if self.callback is not None:
            try:
                self.callback(body, error)
            except Exception:  # a callback must not kill the reader thread
                log.exception("orch: reply callback failed")
        self._done.release()

    def wait(self, timeout: Optional[float]) -> bool:
        return self._done.acquire(timeout=-1 if timeout is None else timeout)


class Connection:
    """A logged-in connection. Use :meth:`request` from any thread."""

    def __init__(self, address: Tuple[str, int], authkey: bytes, *,
                 ssl_context: Optional[ssl.SSLContext] = None, client_name: Optional[str] = None,
                 connect_timeout: float = 10.0) -> None:
        self.address = address
        self._authkey = authkey
        self._ssl_context = ssl_context
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._sock: Optional[socket.socket] = None
        self._write_lock = threading.Lock()
        self._pending: Dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._handlers: Dict[str, MessageHandler] = {}
        self._counter = itertools.count(1)
        # Releases asked for by weakref finalizers. A finalizer may run inside any allocation, even
        # in a thread that holds the write lock, so it only queues the id; the next request or the
        # reader's next tick sends it.
        self._deferred: Deque[Tuple[str, Dict[str, Any]]] = collections.deque()
        self._last_send = time.monotonic()
        self._closed = threading.Event()
        self._close_error: Optional[BaseException] = None
        self._last_err: Optional[str] = None
        self._reader: Optional[threading.Thread] = None
        self._close_callbacks: list = []
        self.session: Optional[str] = None
        self.server: Optional[str] = None
        self.pid = os.getpid()

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> "Connection":
        """Connects, runs the mutual login and starts the reader thread."""
        host, port = self.address
        try:
            sock = socket.create_connection((host, port), timeout=self._connect_timeout)
        except OSError as e:
            raise ConnectionRefusedError(
                f"cannot connect to orch server at {host}:{port}: {e}") from e
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl_context is not None:
                sock = self._ssl_context.wrap_socket(sock, server_hostname=host)
            self._sock = sock
            self._login()
            sock.settimeout(None)
        except BaseException:
            sock.close()
            self._sock = None
            raise
        self._reader = threading.Thread(target=self._read_loop, name=f"orch-reader-{host}:{port}",
                                        daemon=True)
        self._reader.start()
        return self

    def _login(self) -> None:
        """PROTOCOL.md §3, synchronously, before the reader thread exists."""
        decoder = _framing.FrameDecoder()
        where = "%s:%d" % self.address

        def exchange(reply_address: str, body: Dict[str, Any]) -> Dict[str, Any]:
            self._write({"type": "send", "address": "orch.auth", "replyAddress": reply_address,
                         "body": body})
            while True:
                for frame in self._recv_frames(decoder):
                    if frame.get("type") == "pong":
                        continue
                    if frame.get("type") == "err":
                        exc = from_err_frame(frame)
                        if frame.get("failureCode") == 401:
                            raise AuthenticationError(
                                f"orch server at {where} refused the login: {frame.get('message')}"
                                " (wrong authkey?)")
                        raise exc
                    if frame.get("type") == "message" and frame.get("address") == reply_address:
                        reply = frame.get("body")
                        if not isinstance(reply, dict):
                            raise ConnectionError(f"orch server at {where}: malformed auth reply")
                        return reply

        client_nonce = _auth.nonce()
        reply = exchange("a1", {"op": "challenge", "clientNonce": _auth.b64(client_nonce)})
        server_nonce = _auth.unb64(reply.get("serverNonce"))
        proof = _auth.unb64(reply.get("serverProof"))
        if server_nonce is None or reply.get("alg", _auth.ALGORITHM) != _auth.ALGORITHM:
            raise AuthenticationError(f"orch server at {where} sent an invalid challenge")
        if not _auth.matches(_auth.server_proof(self._authkey, client_nonce, server_nonce), proof):
            raise AuthenticationError(
                f"authentication failed: the orch server at {where} does not hold the same "
                "authkey as this client (check ORCH_AUTHKEY / ORCH_AUTHKEY_FILE / ORCH_HOME)")
        body: Dict[str, Any] = {
            "op": "login",
            "proof": _auth.b64(_auth.client_proof(self._authkey, server_nonce, client_nonce))}
        if self._client_name:
            body["name"] = self._client_name
        reply = exchange("a2", body)
        if reply.get("protocol") != 1 or not isinstance(reply.get("session"), str):
            raise ConnectionError(
                f"orch server at {where} speaks protocol {reply.get('protocol')!r}, not 1")
        self.session = reply["session"]
        self.server = reply.get("server")

    def _recv_frames(self, decoder: _framing.FrameDecoder) -> list:
        assert self._sock is not None
        data = self._sock.recv(_RECV_BYTES)
        if not data:
            raise ConnectionError("orch server closed the connection"
                                  + (f": {self._last_err}" if self._last_err else ""))
        return decoder.feed(data)

    # -- writing -----------------------------------------------------------------------------

    def _write(self, frame: Dict[str, Any]) -> None:
        data = _framing.encode(frame)
        sock = self._sock
        if sock is None:
            raise self._lost_error()
        with self._write_lock:
            sock.sendall(data)
            self._last_send = time.monotonic()

    def send(self, frame: Dict[str, Any]) -> None:
        """Writes one frame (no reply expected). Raises ``ConnectionError`` once closed."""
        self._check_usable()
        try:
            self._write(frame)
        except OSError as e:
            self._lost(ConnectionError(f"orch connection lost while sending: {e}"))
            raise self._lost_error() from e

    def request(self, address: str, body: Dict[str, Any],
                timeout: Optional[float] = None) -> Any:
        """Sends ``body`` to ``address`` and returns the reply body; raises the mapped error."""
        pending = self._start(address, body, None)
        if not pending.wait(timeout):
            raise TimeoutError(f"no reply from orch server within {timeout} s")
        if pending.error is not None:
            raise pending.error
        return pending.body

    def request_async(self, address: str, body: Dict[str, Any],
                      callback: Callable[[Any, Optional[BaseException]], None]) -> None:
        """Sends a request whose answer goes to ``callback(body, error)`` on the reader thread."""
        self._start(address, body, callback)

    def _start(self, address: str, body: Dict[str, Any], callback,
               flush: bool = True) -> _Pending:
        self._check_usable()
        if flush and self._deferred:
            self._flush_deferred()
        reply_address = "r%d" % next(self._counter)
        pending = _Pending(callback)
        # Encode before registering so a non-JSON argument fails cleanly without a pending entry.
        frame = {"type": "send", "address": address, "replyAddress": reply_address, "body": body}
        data = _framing.encode(frame)
        with self._pending_lock:
            if self._closed.is_set():
                raise self._lost_error()
            self._pending[reply_address] = pending
        try:
            with self._write_lock:
                self._sock.sendall(data)  # type: ignore[union-attr]
                self._last_send = time.monotonic()
        except (OSError, AttributeError) as e:
            self._lost(ConnectionError(f"orch connection lost while sending: {e}"))
        return pending

    def defer_request(self, address: str, body: Dict[str, Any]) -> None:
        """Queues a fire-and-forget request; safe from finalizers and any thread."""
        if not self._closed.is_set():
            self._deferred.append((address, body))

    def _flush_deferred(self) -> None:
        while self._deferred:
            try:
                address, body = self._deferred.popleft()
            except IndexError:
                return
            try:
                self._start(address, body, _ignore_reply, flush=False)
            except (ConnectionError, OSError):
                return

    # -- incoming messages -------------------------------------------------------------------

    def add_handler(self, address: str, handler: MessageHandler) -> None:
        """Routes ``message`` frames to ``address`` (one this connection registers) to ``handler``.

        Handlers run on the reader thread and must hand slow work to another thread.
        """
        self._handlers[address] = handler

    def remove_handler(self, address: str) -> None:
        self._handlers.pop(address, None)

    def on_close(self, callback: Callable[[BaseException], None]) -> None:
        """Calls ``callback(error)`` once the connection is closed or lost."""
        self._close_callbacks.append(callback)

    # -- reader thread -----------------------------------------------------------------------

    def _read_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        decoder = _framing.FrameDecoder()
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        try:
            while not self._closed.is_set():
                # TLS may hold decrypted bytes the kernel no longer reports as readable.
                if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                    if not poller.poll(_TICK_SECONDS * 1000):
                        self._tick()
                        continue
                try:
                    data = sock.recv(_RECV_BYTES)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    raise ConnectionError("orch server closed the connection")
                for frame in decoder.feed(data):
                    self._dispatch(frame)
                if self._deferred or time.monotonic() - self._last_send >= KEEPALIVE_SECONDS:
                    self._tick()
        except (OSError, ValueError, _framing.FrameError) as e:
            # ValueError: fileno -1 after close(); FrameError: the byte stream is unusable.
            if self._closed.is_set():
                err: BaseException = ConnectionError("orch connection closed")
            elif isinstance(e, ConnectionError):
                err = ConnectionError(str(e) + (f": {self._last_err}" if self._last_err else ""))
            else:
                err = ConnectionError(f"orch connection lost: {e}")
            self._lost(err)
        except BaseException as e:  # never leave callers waiting because of a bug here
            log.exception("orch: reader thread failed")
            self._lost(ConnectionError(f"orch reader thread failed: {e!r}"))
            raise

    def _tick(self) -> None:
        if self._deferred:
            self._flush_deferred()
        if time.monotonic() - self._last_send >= KEEPALIVE_SECONDS:
            self._write({"type": "ping"})

    def _dispatch(self, frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        address = frame.get("address")
        if kind == "message":
            handler = self._handlers.get(address) if isinstance(address, str) else None
            if handler is not None:
                handler(frame)
                return
            pending = self._pop_pending(address)
            if pending is not None:
                pending.complete(frame.get("body"), None)
            else:
                log.debug("orch: message for unknown address %r dropped", address)
        elif kind == "err":
            pending = self._pop_pending(address)
            if pending is not None:
                pending.complete(None, from_err_frame(frame))
            else:
                # A failure not tied to a request (a refused register, a frame too large…).
                self._last_err = frame.get("message") or frame.get("name")
                log.warning("orch: server error: %s", self._last_err)
        elif kind == "pong":
            pass
        else:
            log.debug("orch: frame of unknown type %r ignored", kind)

    def _pop_pending(self, address: Any) -> Optional[_Pending]:
        if not isinstance(address, str):
            return None
        with self._pending_lock:
            return self._pending.pop(address, None)

    # -- closing -----------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed.is_set():
            raise self._lost_error()
        if os.getpid() != self.pid:
            raise RuntimeError("this orch connection belongs to process %d; connect a new "
                               "Manager in the child process" % self.pid)

    def _lost_error(self) -> BaseException:
        err = self._close_error
        return ConnectionError(str(err)) if err is not None else ConnectionError(
            "orch connection is closed")

    def _lost(self, error: BaseException) -> None:
        """Marks the connection dead and fails everything waiting on it (idempotent)."""
        with self._pending_lock:
            if self._closed.is_set():
                return
            self._close_error = error
            self._closed.set()
            pending, self._pending = self._pending, {}
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        for p in pending.values():
            p.complete(None, ConnectionError(str(error)))
        for cb in self._close_callbacks:
            try:
                cb(error)
            except Exception:
                log.exception("orch: close callback failed")

    def close(self) -> None:
        """Closes the connection; pending requests fail with ``ConnectionError``."""
        self._lost(ConnectionError("orch connection closed"))
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=5)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the connection is closed or lost; True if it is."""
        return self._closed.wait(timeout)

    @property
    def close_error(self) -> Optional[BaseException]:
        return self._close_error


def _ignore_reply(body: Any, error: Optional[BaseException]) -> None:
    if error is not None and not isinstance(error, ConnectionError):
        log.debug("orch: deferred request failed: %s", error)
