"""One authenticated connection to an orch server, shared by every thread of a Manager.

Requests are pipelined: each gets a fresh ``replyAddress`` and waits on its own slot in the
pending map. Whoever holds the *reader role* takes frames off the socket and completes the slots
the replies name. By default a waiting caller takes the role itself (leader/follower): a lone
caller reads its own reply without waking another thread, which halves the latency of a call,
and a caller that finds the role free takes its reply straight off the socket, without a pending
slot (about a quarter of the client's own CPU per call).
Once the connection must receive frames nobody waits for (hosting, message handlers, async
callbacks), background reader threads take the role for good. One reads at a time and runs each
handler itself, so a hosted call's reply leaves with no thread wake-up in its path; a handler
that waits for a reply, or that a watchdog finds still running after ``_STALL_SECONDS``, hands
the role to another thread, so no handler can stall reading for long or deadlock it.
Writes go out under a lock so frames never interleave. When the socket closes, for whatever reason, every pending request
fails with ``ConnectionError`` at once, so no caller can hang on a dead server.
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
import weakref
from typing import Any, Callable, Deque, Dict, Optional, Tuple, Union

from . import _auth, _framing, _tls
from .errors import (AuthenticationError, RemoteError, connect_error, connection_error,
                     from_err_frame)

log = logging.getLogger("orch")

#: Seconds without sending before the ticker sends a ``ping``, at most: a third of the peer's
#: idle timeout when that is shorter (PROTOCOL.md §3, §8).
KEEPALIVE_SECONDS = 30.0
#: The idle timeout of a peer whose login reply does not say (an older server: 120 s).
DEFAULT_IDLE_TIMEOUT = 120.0
#: Longest the reader sleeps in poll(), and the ticker between two looks (less when pings
#: must go out more often), so deferred releases go out promptly.
_TICK_SECONDS = 1.0
#: Size of the buffer each connection receives into. recv(n) would allocate n bytes per call,
#: and past malloc's mmap threshold (128 KiB) that is an mmap, an mremap and a munmap, with
#: page faults, on every reply; recv_into one buffer allocates nothing.
_RECV_BYTES = 256 * 1024
#: The largest frame a peer may send before login (PROTOCOL.md §1): more means another protocol.
_MAX_LOGIN_FRAME = 64 * 1024
#: Idle background reader threads kept beyond the one that reads; more exit.
_MAX_IDLE_READERS = 4
#: A handler running longer than this (up to twice this, plus a GIL switch interval for one
#: that computes) loses the reader role to another thread. Handing the role on for every
#: handler instead would cost each hosted call a thread wake-up and GIL hand-offs (about seven
#: futex calls a call, measured), which on a busy 2-core machine cut throughput by half; the
#: watchdog costs one wake-up per period while handlers run, and sleeps otherwise.
_STALL_SECONDS = 0.005

#: This process's id, kept up to date across fork() so the per-call check needs no syscall.
_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

#: Modules whose frames raise the socket's own failures (besides this package's).
_IO_MODULES = frozenset(("socket", "ssl", "selectors", "json", "json.decoder", "json.encoder"))
_PACKAGE = __name__.rpartition(".")[0] + "."


def _from_io(e: BaseException) -> bool:
    """Whether ``e`` is the socket's (or this package's) own failure, not an exception that
    interrupted it. A signal handler's exception has the handler's frame innermost, and may
    well be an OSError like the socket's: the ``signal.alarm`` timeout pattern raises
    TimeoutError. orch installs no signal handler."""
    tb = e.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__") or ""
    return module.startswith(_PACKAGE) or module in _IO_MODULES


class _Failure:
    """A call's failure, returned rather than raised so that :meth:`Connection.request` tells
    it from an exception that interrupted the call."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

#: Handler of a ``message`` frame to an address this connection registered.
MessageHandler = Callable[[Dict[str, Any]], None]


class _Pending:
    """A request waiting for its reply.

    Its waiter sleeps on ``_signal``, which is released when the reply is in and also when the
    reader role becomes free (a *nudge*), so the waiter can take over reading.
    """

    __slots__ = ("_signal", "done", "body", "error", "callback")

    def __init__(self, callback: Optional[Callable[[Any, Optional[BaseException]], None]] = None):
        self._signal = threading.Lock()
        self._signal.acquire()
        self.done = False
        self.body: Any = None
        self.error: Optional[BaseException] = None
        self.callback = callback

    def complete(self, body: Any, error: Optional[BaseException]) -> None:
        self.body, self.error = body, error
        self.done = True
        if self.callback is not None:
            try:
                self.callback(body, error)
            except Exception:  # a callback must not kill the reader
                log.exception("orch: reply callback failed")
        self.nudge()

    def nudge(self) -> None:
        try:
            self._signal.release()
        except RuntimeError:  # already released: the waiter has not slept again yet
            pass

    def sleep(self, timeout: Optional[float]) -> None:
        self._signal.acquire(timeout=-1 if timeout is None else max(0.0, timeout))


#: Ids per deferred ``release`` request: well inside the server's default frame and in-flight
#: limits, and few requests for many proxies.
_RELEASE_BATCH = 512

class Connection:
    """A logged-in connection. Use :meth:`request` from any thread."""

    def __init__(self, address: Tuple[str, int], authkey: bytes, *,
                 ssl_context: Optional[ssl.SSLContext] = None, client_name: Optional[str] = None,
                 connect_timeout: float = 10.0, login_session: Optional[str] = None,
                 peer: str = "orch server") -> None:
        """``connect_timeout`` bounds the TCP connect and the login together. ``login_session``
        is sent as ``session`` with the login and ``peer`` names the other end in messages:
        both are for a direct connection to a hosting worker (PROTOCOL.md §7)."""
        self.address = address
        self._login_session = login_session
        # A direct connection's err frames are a worker's answers, checked as the server would.
        self._from_worker = login_session is not None
        self._peer = peer
        self._max_frame = float("inf")  # the login reply's maxFrame, when the peer says
        self._idle_timeout = DEFAULT_IDLE_TIMEOUT  # the login reply's idleTimeout, when it says
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
        # When a frame last arrived, and when a ping went out that nothing has answered since:
        # a peer that stops answering without closing (frozen, or cut off by the network) is
        # found out by the ticker, or a parked call would wait on it for ever.
        self._last_recv = self._last_send
        self._ping_sent: Optional[float] = None
        self._closed = threading.Event()
        self._close_error: Optional[BaseException] = None
        self._last_err: Optional[str] = None
        # A worker's answers go to proxies of its own objects, which take results as they are
        # (PROTOCOL.md §7): their text is not searched for references (0.3 µs a KiB).
        self._decoder = _framing.FrameDecoder(refs=not self._from_worker)
        self._rbuf = memoryview(bytearray(_RECV_BYTES))  # used only by the role's holder
        # Frames read but not yet dispatched; like the socket, used only by the role's holder.
        self._frames: Deque[Dict[str, Any]] = collections.deque()
        self._poller: Any = None  # used only by the holder of the reader role
        self._reader: Optional[threading.Thread] = None  # the background thread reading now
        # Held by whoever reads the socket: a waiting caller, or background reader threads.
        self._role = threading.Lock()
        self._background = False
        self._background_lock = threading.Lock()
        # Guards the hand-over between background readers: who reads, how many wait to.
        self._hand = threading.Lock()
        self._reader_ident: Optional[int] = None
        self._idle_readers = 0
        # The watchdog's view: which reader thread runs a handler, and how many it started.
        self._dispatching: Optional[int] = None
        self._dispatch_seq = 0
        self._watch_parked = False
        self._watch_wake = threading.Lock()
        self._watch_wake.acquire()
        self._close_callbacks: list = []
        self.session: Optional[str] = None
        self.server: Optional[str] = None
        #: The peer's socket address, once connected: one server whatever name reached it.
        self.peer: Optional[Tuple[Any, ...]] = None
        self.pid = os.getpid()

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> "Connection":
        """Connects, runs the mutual login and starts the reader thread."""
        host, port = self.address
        # As socket.connect() takes "" (INADDR_ANY, which reaches this host), so
        # multiprocessing's ("", port) does; getaddrinfo would not resolve it.
        host = host or "127.0.0.1"
        deadline = time.monotonic() + self._connect_timeout
        try:
            sock = socket.create_connection((host, port), timeout=self._connect_timeout)
        except OSError as e:
            raise connect_error(e, f"cannot connect to {self._peer} at {host}:{port}") from e
        phase = "TLS handshake"
        try:
            self.peer = sock.getpeername()[:2]
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl_context is not None:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                sock = _tls.TlsSocket.client(sock, self._ssl_context, host)  # type: ignore[assignment]
            self._sock = sock
            phase = "login"
            self._login(deadline)
            sock.settimeout(None)
        except BaseException as e:
            sock.close()
            self._sock = None
            if (isinstance(e, AuthenticationError) or not isinstance(e, Exception)
                    or not _from_io(e)):
                raise  # a wrong key; Ctrl-C, or what a signal handler raised: as they are
            err = self._open_error(e, phase, f"{host}:{port}")
            if err is e:
                raise
            raise err from e
        # Nothing below holds this object strongly, so that a connection nobody references any
        # more (no Manager, no proxy, no call waiting, no background reader) is collected, and
        # then closed: the server ends its session and drops its anonymous objects.
        weakref.finalize(self, _unreferenced, sock, self._closed, self.pid).atexit = False
        threading.Thread(target=_tick_loop, args=(weakref.ref(self), self._closed),
                         name=f"orch-ticker-{host}:{port}", daemon=True).start()
        return self

    def _open_error(self, e: Exception, phase: str, where: str) -> BaseException:
        """The ConnectionError for ``e``, which ended the TLS handshake or the login (``phase``):
        connect() promises ConnectionError (or AuthenticationError), and the serve_forever
        retry loop relies on it. It is also of ``e``'s class where that is one a caller may
        catch (TimeoutError, ssl.SSLError…), never of a private one (FrameError)."""
        peer = self._peer
        if type(e) is ConnectionError:
            return e  # the login's own, which says what happened
        if isinstance(e, (TimeoutError, socket.timeout)):
            return connection_error(e, f"no {phase} answer from the {peer} at {where} within "
                                       f"{self._connect_timeout:g} s")
        if isinstance(e, _framing.FrameError):
            return connection_error(e, f"{where} is not an {peer}: it answered the {phase} "
                                       f"with bytes that are not an orch frame ({e})")
        if isinstance(e, RemoteError):
            return connection_error(e, f"the {peer} at {where} refused the {phase}: {e}")
        if isinstance(e, ssl.SSLError):
            return connection_error(e, f"the TLS handshake with the {peer} at {where} failed: {e}")
        if isinstance(e, OSError):
            return connection_error(e, f"the connection to the {peer} at {where} failed during "
                                       f"the {phase}: {e.strerror or e}")
        return connection_error(e, f"{where} is not an {peer}: its answer to the {phase} "
                                   f"could not be read ({type(e).__name__}: {e})")

    def start_background_reader(self) -> None:
        """From now on a dedicated thread reads the socket (needed to receive unrequested frames)."""
        with self._background_lock:
            if self._background or self._closed.is_set():
                return
            self._background = True
            with self._hand:
                self._spawn_reader()
            host, port = self.address
            threading.Thread(target=self._watch, name=f"orch-watchdog-{host}:{port}",
                             daemon=True).start()

    def _spawn_reader(self) -> None:
        """Starts a thread that waits for the reader role (``self._hand`` held)."""
        self._idle_readers += 1
        host, port = self.address
        threading.Thread(target=self._reader_main, name=f"orch-reader-{host}:{port}",
                         daemon=True).start()

    def handoff_reader(self) -> bool:
        """Called by a handler (on a background reader thread) before work that will block:
        another thread takes over reading at once, and this one leaves the reader role when the
        handler returns. Returns False when the calling thread is not the reader (then nothing
        changes). Without it the watchdog does the same after ``_STALL_SECONDS``.
        """
        me = threading.get_ident()
        if self._reader_ident != me:
            return False
        with self._hand:
            if self._reader_ident != me:
                return False
            self._pass_role()
        return True

    def _pass_role(self) -> None:
        """The reader (busy in a handler) stops being it; another thread reads (``_hand`` held)."""
        self._reader_ident = None
        self._reader = None
        self._dispatching = None
        if self._idle_readers == 0:
            self._spawn_reader()
        self._role.release()

    def _watch(self) -> None:
        """Takes the reader role away from a handler that has run for a whole period."""
        last = -1
        while not self._closed.is_set():
            time.sleep(_STALL_SECONDS)
            with self._hand:
                seq = self._dispatch_seq
                park = False
                if self._dispatching is not None:
                    if seq == last:
                        self._pass_role()
                elif seq == last:  # idle for a whole period: sleep until the next handler
                    park = self._watch_parked = True
                last = seq
            if park:
                self._watch_wake.acquire()

    def _login(self, deadline: float) -> None:
        """PROTOCOL.md §3, synchronously, before the reader thread exists."""
        decoder = self._decoder  # bytes after the login reply stay for the reader
        where = "%s:%d" % self.address
        peer = self._peer

        # Both ways a key mismatch shows (the peer refuses our proof with 401, or its own proof
        # is wrong) read the same, as they did when the server proved itself first.
        def wrong_key() -> AuthenticationError:
            return AuthenticationError(
                f"authentication failed: the {peer} at {where} does not hold the same "
                "authkey as this client (check ORCH_AUTHKEY / ORCH_AUTHKEY_FILE / ORCH_HOME)")

        def exchange(reply_address: str, body: Dict[str, Any]) -> Dict[str, Any]:
            self._write({"type": "send", "address": "orch.auth", "replyAddress": reply_address,
                         "body": body})
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout(f"no login reply from {peer} at {where} in time")
                self._sock.settimeout(left)  # type: ignore[union-attr]
                for frame in self._recv_frames(decoder):
                    if frame.get("type") == "pong":
                        continue
                    if frame.get("type") == "err":
                        exc = from_err_frame(frame)
                        if frame.get("failureCode") == 401:
                            raise wrong_key()
                        raise exc
                    if frame.get("type") == "message" and frame.get("address") == reply_address:
                        reply = frame.get("body")
                        if not isinstance(reply, dict):
                            raise ConnectionError(f"{peer} at {where}: malformed auth reply")
                        return reply

        client_nonce = _auth.nonce()
        try:
            reply = exchange("a1", {"op": "challenge", "clientNonce": _auth.b64(client_nonce)})
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as e:
            raise self._plain_to_tls_hint(ConnectionError(f"{peer} closed the connection: {e}"))
        except ConnectionError as e:
            if type(e) is not ConnectionError:
                raise
            raise self._plain_to_tls_hint(e)
        server_nonce = _auth.unb64(reply.get("serverNonce"))
        if server_nonce is None or reply.get("alg", _auth.ALGORITHM) != _auth.ALGORITHM:
            raise AuthenticationError(f"{peer} at {where} sent an invalid challenge")
        body: Dict[str, Any] = {
            "op": "login",
            "proof": _auth.b64(_auth.client_proof(self._authkey, server_nonce, client_nonce))}
        if self._client_name:
            body["name"] = self._client_name
        if self._login_session:
            body["session"] = self._login_session
        reply = exchange("a2", body)
        # Our proof has gone out; until the peer's proof checks out, it may be anyone that took it.
        proof = _auth.unb64(reply.get("serverProof"))
        if not _auth.matches(_auth.server_proof(self._authkey, client_nonce, server_nonce), proof):
            raise wrong_key()
        if reply.get("protocol") != 1 or not isinstance(reply.get("session"), str):
            raise ConnectionError(
                f"{peer} at {where} speaks protocol {reply.get('protocol')!r}, not 1")
        self.session = reply["session"]
        self.server = reply.get("server")
        limit = reply.get("maxFrame")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            self._max_frame = limit
        idle = reply.get("idleTimeout")
        if isinstance(idle, (int, float)) and not isinstance(idle, bool) and 0 < idle < 1e9:
            self._idle_timeout = float(idle)

    def _plain_to_tls_hint(self, e: ConnectionError) -> ConnectionError:
        """``e``, cut off before any answer to the first login frame, with a hint when this
        connection is plain: a TLS listener drops a plain client's first frame."""
        if self._ssl_context is not None:
            return e
        where = "%s:%d" % self.address
        hint = ConnectionError(
            f"{e} at the login to {where}; if it takes TLS, connect with TLS (tls_ca=PEM or "
            "tls=True; or ORCH_TLS_CA / ORCH_TLS=1 in the environment)")
        hint.__cause__ = e
        return hint

    def _recv_frames(self, decoder: _framing.FrameDecoder) -> list:
        assert self._sock is not None
        n = self._sock.recv_into(self._rbuf)
        if not n:
            raise ConnectionError(f"{self._peer} closed the connection"
                                  + (f": {self._last_err}" if self._last_err else ""))
        self._last_recv = time.monotonic()
        frames = decoder.feed(self._rbuf[:n])
        length = decoder.next_length
        if length is not None and length > _MAX_LOGIN_FRAME:
            # Login answers are small: this is some other protocol (an HTTP server's "HTTP"
            # reads as 1.2 GB), which would otherwise be waited for until it closes.
            raise _framing.FrameError(f"a frame of {length} bytes announced at the login")
        return frames

    @property
    def idle_timeout(self) -> float:
        """Seconds after which the peer closes a connection that sends nothing (its login
        reply's ``idleTimeout``; 120 when it did not say)."""
        return self._idle_timeout

    @property
    def keepalive_seconds(self) -> float:
        """Seconds without sending after which a ``ping`` goes out: a third of the peer's idle
        timeout, at most ``KEEPALIVE_SECONDS``."""
        return min(KEEPALIVE_SECONDS, self.idle_timeout / 3)

    @property
    def max_frame(self) -> float:
        """The largest frame payload the peer takes (its login reply's ``maxFrame``; infinite
        when it did not say)."""
        return self._max_frame

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
        except BaseException as e:
            self._write_failed(e)
            raise self._lost_error() from e

    def send_encoded(self, data: bytes) -> None:
        """Writes one already encoded frame (see :mod:`._framing`); as :meth:`send`."""
        self._check_usable()
        sock = self._sock
        try:
            if sock is None:
                raise OSError("not connected")
            with self._write_lock:
                sock.sendall(data)
                self._last_send = time.monotonic()
        except BaseException as e:
            self._write_failed(e)
            raise self._lost_error() from e

    def _write_failed(self, e: BaseException) -> None:
        """Marks the connection lost when ``e`` is the socket's failure; otherwise (Ctrl-C, a
        signal handler's exception) closes it, as a frame may be half written, and re-raises."""
        if isinstance(e, (OSError, AttributeError)) and _from_io(e):
            self._lost(ConnectionError(f"orch connection lost while sending: {e}"))
            return
        self._interrupted(e)
        raise e

    def request(self, address: str, body: Union[Dict[str, Any], bytes],
                timeout: Optional[float] = None, prefix: Optional[bytes] = None) -> Any:
        """Sends ``body`` (a dict, or its JSON already encoded as bytes) to ``address`` and
        returns the reply body; raises the mapped error.

        ``prefix``, from ``_framing.send_prefix(address)``, saves encoding the address again.
        Any other exception that ends the call, Ctrl-C or one a signal handler raises (the
        ``signal.alarm`` timeout pattern), closes the connection and propagates as it is: see
        :meth:`_interrupted`.
        """
        if _pid != self.pid or self._closed.is_set():
            self._check_usable()
        # Encoded first: an argument that is not JSON fails this call alone, before sending.
        reply_address, data = self._encode_request(address, body, prefix)
        try:
            outcome = self._request(reply_address, data, timeout)
        except BaseException as e:
            # The answer and the connection's loss come back as outcomes; anything else was
            # raised into the wait, and the server may hold the call.
            if not self._closed.is_set():
                self._interrupted(e)
            raise
        if type(outcome) is _Failure:
            raise outcome.error
        return outcome

    def _request(self, reply_address: str, data: bytes, timeout: Optional[float]) -> Any:
        if (timeout is None and not self._background and not self._deferred
                and self._role.acquire(blocking=False)):
            try:
                reply = self._request_as_reader(reply_address, data)
            finally:
                self._role.release()
                if self._pending:
                    self._nudge_one_waiter()
            if type(reply) is not _Pending:
                return reply
            pending = reply  # background readers started meanwhile: they deliver the reply
        else:
            if self._deferred:
                self._flush_deferred()
            pending = self._register(reply_address, data, None)
        if not pending.done and not self._await(pending, timeout):
            with self._pending_lock:
                self._pending = {k: v for k, v in self._pending.items() if v is not pending}
            return _Failure(TimeoutError(f"no reply from orch server within {timeout} s"))
        if pending.error is not None:
            return _Failure(pending.error)
        return pending.body

    def _request_as_reader(self, reply_address: str, data: bytes) -> Any:
        """:meth:`request` for a caller that holds the reader role and may read its own reply:
        the common case of one thread calling. Its reply is taken straight off the socket, with
        no pending slot, lock or wake-up; replies to other threads' requests that arrive first
        are dispatched as usual. A reply cannot go astray: only the role's holder reads.

        Returns the reply's body, a :class:`_Failure`, or a registered :class:`_Pending` for
        the reply when background readers start meanwhile (they take over reading at the next
        frame boundary)."""
        if not self._send_request(data):
            raise self._lost_error()
        frames = self._frames
        while True:
            if self._background:
                pending = _Pending()
                with self._pending_lock:
                    if self._closed.is_set():
                        raise self._lost_error()
                    self._pending[reply_address] = pending
                return pending
            if frames:
                frame = frames.popleft()
                if frame.get("address") == reply_address:
                    kind = frame.get("type")
                    if kind == "message":
                        return frame.get("body")
                    if kind == "err":
                        return _Failure(from_err_frame(frame, self._from_worker))
                self._dispatch(frame)
                continue
            if self._closed.is_set():
                raise self._lost_error()
            try:
                self._read_step(None)
            except BaseException as e:
                self._fail_reading(e)  # re-raises an interruption (Ctrl-C…) as it is
                raise self._lost_error() from e

    def _encode_request(self, address: str, body: Union[Dict[str, Any], bytes],
                        prefix: Optional[bytes]) -> Tuple[str, bytes]:
        """A fresh reply address and the whole ``send`` frame; raises for a body that is not
        JSON or a frame larger than the peer takes."""
        reply_address = "r%d" % next(self._counter)
        data = _framing.encode_send(prefix or _framing.send_prefix(address), reply_address,
                                    body if type(body) is bytes else _framing.encode_json(body))
        if len(data) - _framing.HEADER_SIZE > self._max_frame:
            # The peer would close the connection, failing every call on it; this one fails alone.
            raise RemoteError(413, "FrameTooLarge",
                              "the request is %d bytes; the %s takes frames of at most %d "
                              "(server --max-frame)" % (len(data) - _framing.HEADER_SIZE,
                                                        self._peer, self._max_frame))
        return reply_address, data

    def _send_request(self, data: bytes) -> bool:
        """Writes one encoded request; False, with the connection marked lost, if it failed."""
        try:
            with self._write_lock:
                self._sock.sendall(data)  # type: ignore[union-attr]
                self._last_send = time.monotonic()
            return True
        except BaseException as e:
            self._write_failed(e)
            return False

    def request_async(self, address: str, body: Dict[str, Any],
                      callback: Callable[[Any, Optional[BaseException]], None]) -> None:
        """Sends a request whose answer goes to ``callback(body, error)`` on the reader thread."""
        self.start_background_reader()
        self._start(address, body, callback)

    def _start(self, address: str, body: Dict[str, Any], callback,
               flush: bool = True, prefix: Optional[bytes] = None) -> _Pending:
        if _pid != self.pid or self._closed.is_set():
            self._check_usable()
        if flush and self._deferred:
            self._flush_deferred()
        # Encode before registering so a non-JSON argument fails cleanly without a pending entry.
        reply_address, data = self._encode_request(address, body, prefix)
        return self._register(reply_address, data, callback)

    def _register(self, reply_address: str, data: bytes, callback) -> _Pending:
        pending = _Pending(callback)
        with self._pending_lock:
            if self._closed.is_set():
                raise self._lost_error()
            self._pending[reply_address] = pending
        self._send_request(data)  # on failure, losing the connection fails the pending request
        return pending

    def defer_request(self, address: str, body: Dict[str, Any]) -> None:
        """Queues a fire-and-forget request; safe from finalizers and any thread."""
        if not self._closed.is_set():
            self._deferred.append((address, body))

    def _flush_deferred(self) -> None:
        """Sends the queued requests. Releases go together, ``_RELEASE_BATCH`` ids a request
        (PROTOCOL.md §4): a list of 10,000 proxies collected at once made as many requests,
        past the server's limit of requests in flight, which refused the rest (their objects
        then lived as long as the connection) and the call that came next."""
        ids = []
        deferred = self._deferred
        while deferred:
            try:
                address, body = deferred.popleft()
            except IndexError:
                break
            if address == "orch.manager" and body.get("op") == "release" and "id" in body:
                ids.append(body["id"])
            elif not self._send_deferred(address, body):
                return
        for start in range(0, len(ids), _RELEASE_BATCH):
            batch = ids[start:start + _RELEASE_BATCH]
            body = {"op": "release", "id": batch[0]} if len(batch) == 1 else {"op": "release", "ids": batch}
            if not self._send_deferred("orch.manager", body):
                return

    def _send_deferred(self, address: str, body: Dict[str, Any]) -> bool:
        try:
            self._start(address, body, _ignore_reply, flush=False)
            return True
        except ConnectionError:  # not OSError: a signal handler's TimeoutError goes on
            return False

    # -- incoming messages -------------------------------------------------------------------

    def add_handler(self, address: str, handler: MessageHandler) -> None:
        """Routes ``message`` frames to ``address`` (one this connection registers) to ``handler``.

        Handlers run on a reader thread. One that waits for a reply, or runs longer than
        ``_STALL_SECONDS``, hands reading on to another thread, so it may block.
        """
        self._handlers[address] = handler
        self.start_background_reader()

    def remove_handler(self, address: str) -> None:
        self._handlers.pop(address, None)

    def on_close(self, callback: Callable[[BaseException], None]) -> None:
        """Calls ``callback(error)`` once the connection is closed or lost (at once if it is)."""
        self._close_callbacks.append(callback)
        self.start_background_reader()  # a loss must be noticed even when nobody calls
        if self._closed.is_set():
            callback(self._close_error or ConnectionError("orch connection closed"))

    # -- reader thread -----------------------------------------------------------------------

    def _await(self, pending: _Pending, timeout: Optional[float]) -> bool:
        """Waits for ``pending``, reading the socket itself while nobody else does."""
        if pending.done:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._reader_ident == threading.get_ident():
            # A handler waits for a reply (a hosted method calling a remote object): it is the
            # reader, so unless another thread reads, that reply never comes.
            self.handoff_reader()
        frames = self._frames
        while not pending.done:
            if not self._background and self._role.acquire(blocking=False):
                try:
                    # Once background readers exist they take over, at a frame boundary.
                    while not self._closed.is_set() and not self._background:
                        if frames:  # all of them, even after our own reply: others wait too
                            self._dispatch(frames.popleft())
                            continue
                        if pending.done:
                            break
                        if deadline is None:
                            self._read_step(None)
                        else:
                            left = deadline - time.monotonic()
                            if left <= 0:
                                break
                            self._read_step(min(left, _TICK_SECONDS))
                except BaseException as e:
                    self._fail_reading(e)
                finally:
                    self._role.release()
                    if self._pending:
                        self._nudge_one_waiter()
            if pending.done:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if self._closed.is_set() and not pending.done:
                raise self._lost_error()
            pending.sleep(left)
        return True

    def _nudge_one_waiter(self) -> None:
        """The reader role is free: wake one caller still waiting so it takes over."""
        with self._pending_lock:
            for p in self._pending.values():
                if not p.done and p.callback is None:
                    p.nudge()
                    return

    def _read_step(self, timeout: Optional[float]) -> None:
        """Reads what is available within ``timeout`` seconds (None: blocks until something is)
        and queues every whole frame in ``self._frames``.

        Blocking needs no poll() first, one system call less per reply; close() still wakes the
        recv, by shutting the socket down. A frame that arrives for a background reader that
        started meanwhile wakes it too, and the caller then leaves the reader role.
        """
        sock = self._sock
        if sock is None:
            raise ConnectionError("orch connection is closed")
        # TLS may hold decrypted bytes the kernel no longer reports as readable.
        if timeout is not None and not (isinstance(sock, _tls.TlsSocket) and sock.pending()):
            if self._poller is None:
                self._poller = select.poll()
                self._poller.register(sock.fileno(), select.POLLIN)
            if not self._poller.poll(timeout * 1000):
                return
        n = sock.recv_into(self._rbuf)
        if not n:
            raise ConnectionError(f"{self._peer} closed the connection")
        self._last_recv = time.monotonic()
        self._frames.extend(self._decoder.feed(self._rbuf[:n]))

    def _fail_reading(self, e: BaseException) -> None:
        if not isinstance(e, Exception) or not _from_io(e):
            # Ctrl-C, SystemExit, or an exception a signal handler raised: the caller's own.
            self._interrupted(e)
            raise e
        if isinstance(e, (OSError, ValueError, _framing.FrameError)):
            # ValueError: fileno -1 after close(); FrameError: the byte stream is unusable.
            if self._closed.is_set():
                err: BaseException = ConnectionError("orch connection closed")
            elif isinstance(e, ConnectionError):
                err = ConnectionError(str(e) + (f": {self._last_err}" if self._last_err else ""))
            elif isinstance(e, _framing.FrameError):
                err = ConnectionError(f"orch connection lost: the {self._peer} at "
                                      f"{self.address[0]}:{self.address[1]} sent a malformed "
                                      f"frame ({e})")
            else:
                err = ConnectionError(f"orch connection lost: {e}")
            self._lost(err)
            return
        # A bug here, or a frame this client cannot take: the connection is unusable, and
        # callers get the ConnectionError every lost connection gives, not this exception.
        log.exception("orch: reading failed")
        self._lost(ConnectionError(f"orch reader failed: {e!r}"))

    def _interrupted(self, e: BaseException) -> None:
        """A caller left its call unanswered (Ctrl-C, or an exception a signal handler raised
        such as the TimeoutError of the ``signal.alarm`` pattern), perhaps with its frame half
        written. The
        server may be holding that call: a parked ``get`` would later take an item nobody
        receives, an ``acquire`` a lock nobody releases. The protocol has no way to withdraw one
        call, so the connection closes, which withdraws them all: the server drops its parked
        calls, puts back an item already on its way, and releases its locks, permits and
        anonymous objects (SYNC.md, "Differences from Python")."""
        self._lost(ConnectionError(
            "orch connection closed: a call was interrupted (%s) while the server may still "
            "hold it, so its waits, locks and anonymous objects were given up; connect a new "
            "Manager" % type(e).__name__))

    def _reader_main(self) -> None:
        """A background reader thread: waits for the role, reads and dispatches until it hands
        the role on (then waits again, or exits when enough others wait) or the connection ends.
        """
        me = threading.get_ident()
        this = threading.current_thread()
        while True:
            self._role.acquire()
            with self._hand:
                self._idle_readers -= 1
                self._reader_ident = me
                self._reader = this
            if self._lead(me):
                # The connection ended: pass the role on, so each waiting thread sees it and exits.
                with self._hand:
                    self._reader_ident = None
                self._role.release()
                return
            with self._hand:
                if self._closed.is_set() or self._idle_readers >= _MAX_IDLE_READERS:
                    return
                self._idle_readers += 1

    def _lead(self, me: int) -> bool:
        """Reads and dispatches while this thread is the reader. True when the connection ended,
        False when the role went to another thread."""
        frames = self._frames
        sock = self._sock
        decoder = self._decoder
        rbuf = self._rbuf
        hand = self._hand
        try:
            while not self._closed.is_set():
                if frames:
                    frame = frames.popleft()
                    with hand:
                        self._dispatch_seq += 1
                        self._dispatching = me
                        if self._watch_parked:
                            self._watch_parked = False
                            self._watch_wake.release()
                    try:
                        self._dispatch(frame)
                    finally:
                        # Not kept while this thread waits for the next frame: what a handler
                        # made of it (a hosted call's proxies of its references) goes now.
                        del frame
                        # Under the lock: the watchdog must not pass the role on while this
                        # thread decides to go on reading.
                        with hand:
                            if self._dispatching == me:
                                self._dispatching = None
                            still = self._reader_ident == me
                    if not still:
                        return False
                    continue
                if sock is None:
                    raise ConnectionError("orch connection is closed")
                # Blocking: close() shuts the socket down, which wakes this recv; keepalives and
                # deferred releases go out from the ticker thread.
                n = sock.recv_into(rbuf)
                if not n:
                    raise ConnectionError(f"{self._peer} closed the connection")
                self._last_recv = time.monotonic()
                frames.extend(decoder.feed(rbuf[:n]))
        except BaseException as e:
            if self._reader_ident != me:
                # A handler failed after handing the role on: the connection is fine.
                log.exception("orch: message handler failed")
                return False
            try:
                self._fail_reading(e)
            except BaseException:
                pass  # already logged; this thread must still pass the role on
        return True

    def _tick(self) -> None:
        if self._deferred:
            self._flush_deferred()
        now = time.monotonic()
        period = self.keepalive_seconds
        sent = self._ping_sent
        if sent is not None:
            if self._last_recv >= sent:
                sent = self._ping_sent = None
            elif now - sent > period and not self._readable():
                raise ConnectionError(f"{self._peer} did not answer a ping within {period:g} s")
        # A ping when this side has sent nothing (the peer's idle timeout), and also when it has
        # heard nothing, so that a silent peer is noticed while requests still go out.
        if now - self._last_send >= period or (sent is None and now - self._last_recv >= period):
            self._write({"type": "ping"})
            if sent is None:
                self._ping_sent = now

    def _readable(self) -> bool:
        """Whether bytes from the peer wait to be read: with no caller reading (an idle client
        has no reader), its answer to a ping is there though nothing took it."""
        sock = self._sock
        if sock is None:
            return False
        if isinstance(sock, _tls.TlsSocket) and sock.pending():
            return True
        try:
            return bool(select.select([sock.fileno()], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _dispatch(self, frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        address = frame.get("address")
        if kind == "message":
            handler = self._handlers.get(address) if isinstance(address, str) else None
            if handler is not None:
                try:
                    handler(frame)
                except Exception:  # the handler's own failure: reading goes on
                    log.exception("orch: message handler failed")
                return
            pending = self._pop_pending(address)
            if pending is not None:
                pending.complete(frame.get("body"), None)
            else:
                log.debug("orch: message for unknown address %r dropped", address)
        elif kind == "err":
            pending = self._pop_pending(address)
            if pending is not None:
                pending.complete(None, from_err_frame(frame, self._from_worker))
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
        if _pid != self.pid:
            raise RuntimeError("this orch connection belongs to process %d; connect a new "
                               "Manager in the child process" % self.pid)

    def _lost_error(self) -> BaseException:
        err = self._close_error
        return ConnectionError(str(err)) if err is not None else ConnectionError(
            "orch connection is closed")

    def _lost(self, error: BaseException) -> None:
        """Marks the connection dead and fails everything waiting on it (idempotent)."""
        if _pid != self.pid:
            self._abandon(error)
            return
        with self._pending_lock:
            if self._closed.is_set():
                return
            self._close_error = error
            self._closed.set()
            pending, self._pending = self._pending, {}
        sock = self._sock
        if sock is not None:
            try:
                # For TLS too, the socket's own shutdown: no close_notify, just wake the reader.
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
            try:
                sock.close()
            except OSError:
                pass
        with self._hand:  # the watchdog exits
            if self._watch_parked:
                self._watch_parked = False
                self._watch_wake.release()
        for p in pending.values():
            p.complete(None, ConnectionError(str(error)))
        for cb in self._close_callbacks:
            try:
                cb(error)
            except Exception:
                log.exception("orch: close callback failed")

    def _abandon(self, error: BaseException) -> None:
        """:meth:`_lost` in a process forked from the one that connected, where the socket is
        the parent's too: only this process's copy of it is closed. A shutdown (or anything
        written) would reach the parent's connection. No lock is taken, as a thread of the
        parent may have held one when it forked, and no callback runs (what they close, the
        fork handlers closed already)."""
        if self._closed.is_set():
            return
        closed = threading.Event()  # a fresh one: the inherited one's lock may be held
        closed.set()
        self._close_error = error
        self._closed = closed
        self._pending = {}
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        """Closes the connection; pending requests fail with ``ConnectionError``.

        In a process forked from the one that connected (say a child leaving a ``with
        Manager()`` block), only that process's copy of the socket is closed: the parent's
        connection is left as it is."""
        self._lost(ConnectionError("orch connection closed"))
        if _pid != self.pid:
            return  # the parent's threads did not fork
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            # Only the thread reading now: threads busy in handlers may take their time.
            reader.join(timeout=5)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def authkey(self) -> bytes:
        """The key this connection logged in with (a hosting worker checks direct logins)."""
        return self._authkey

    @property
    def tls(self) -> bool:
        return self._ssl_context is not None

    @property
    def local_host(self) -> str:
        """The local IP address of this connection's socket."""
        sock = self._sock
        if sock is None:
            raise self._lost_error()
        return sock.getsockname()[0]

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the connection is closed or lost; True if it is."""
        self.start_background_reader()
        return self._closed.wait(timeout)

    @property
    def close_error(self) -> Optional[BaseException]:
        return self._close_error


def _tick_loop(ref: "weakref.ref[Connection]", closed: threading.Event) -> None:
    """The ticker thread: keepalive pings and deferred releases, even when no caller is
    reading. It holds its connection only while it ticks, so that it never keeps one alive
    that nothing else references (see :func:`_unreferenced`, which also wakes it)."""
    while True:
        conn = ref()
        if conn is None:
            return
        # Twice a keepalive period, at least: a ping then goes out at most one and a half
        # periods after the last frame, half the peer's idle timeout.
        period = min(_TICK_SECONDS, conn.keepalive_seconds / 2)
        del conn
        if closed.wait(period):
            return
        conn = ref()
        if conn is None:
            return
        try:
            conn._tick()
        except (OSError, ConnectionError) as e:
            conn._lost(ConnectionError(f"orch connection lost: {e}"))
            return
        finally:
            del conn


def _unreferenced(sock: Any, closed: threading.Event, pid: int) -> None:
    """Closes the socket of a connection that was garbage collected: nobody can call on it or
    wait for it any more, and the server ends the session (releasing its anonymous objects,
    locks and permits) only when the socket closes. In a process forked from the one that
    connected, this closes only that process's copy of the socket, as :meth:`_abandon` does."""
    if os.getpid() == pid:
        closed.set()  # the ticker exits now rather than at its next look
    try:
        sock.close()
    except OSError:
        pass


def _ignore_reply(body: Any, error: Optional[BaseException]) -> None:
    if error is not None and not isinstance(error, ConnectionError):
        log.debug("orch: deferred request failed: %s", error)
