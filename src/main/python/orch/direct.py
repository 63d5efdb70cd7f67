"""Direct calls: a hosting worker takes calls on its objects itself (PROTOCOL.md §7, "Direct calls").

A call routed through the server crosses two connections each way. A worker that hosts types
also listens on a TCP port and offers it with its ``host`` requests; clients then connect to it,
log in with the same key (the worker in the server's role) and send their calls there, one hop.

Threads. Each accepted connection is served the way :mod:`.connection` serves the server-routed
path: one thread at a time holds the connection's *read role*, reads one frame, gives the role
up and runs the call itself, so a fast call's reply leaves from the thread that read it with no
thread wake-up in its path. When it is done it takes the role back, or exits if another thread
has it. A call that blocks or runs long must not stop the calls behind it on the same
connection (clients share one connection between all their threads): one watchdog per process,
ticking every ``_STALL_SECONDS`` only while some call runs, starts another reader thread for a
connection whose role has been free while a call ran for a whole period. Every thread here is
named ``orch-direct-…``.

Bounds, as the server bounds a connection (PROTOCOL.md §7, §8). A call read while
``MAX_IN_FLIGHT`` calls of its connection are in flight (read, not yet answered) is answered 429
``TooMany`` without running. Answers are written under a per-connection lock by whichever thread
holds it; a thread that finds the lock taken queues its answer for the holder to write and goes
back to reading, so a client that does not read its answers holds up one thread (the one whose
write blocks: it gets a reader behind it, as a slow call does), not one per call. Once more than
``MAX_PENDING_OUTPUT`` (or twice the largest answer) waits in that queue, the connection is
closed as a slow consumer. Threads are thus bounded by connections plus calls that really run
long, and memory by the limits.

``ORCH_DIRECT`` in the worker's environment: unset, ``on`` or ``1`` listens on the local
address of the worker's connection to the server, on a free port; ``off`` or ``0`` offers
nothing; ``HOST:PORT`` listens and advertises there.

TLS (PROTOCOL.md §7, "TLS"). With ``ORCH_DIRECT_CERT`` and ``ORCH_DIRECT_KEY`` (PEM files, both
or neither) the direct port takes TLS connections only and the worker offers ``directTls``;
only one of them set, or files that cannot be loaded, make hosting fail (ValueError/OSError)
rather than fall back. Without them, a worker whose connection to the server uses TLS offers
nothing, so what is encrypted to the server is never sent in the clear to a worker. The
accept loop only wraps a socket; its handshake runs on the connection's own thread, within the
time allowed to log in. A client takes a ``directTls`` offer over TLS, checking the worker's
certificate chain against what it trusts for the server but not the host name, and a client
whose server connection uses TLS ignores plain offers.
"""
from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import socket
import ssl
import struct
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Deque, Dict, Optional, Set, Tuple

from . import _auth, _framing, _tls
from .errors import remote_error

if TYPE_CHECKING:
    from .connection import Connection
    from .hosting import Host

log = logging.getLogger("orch")

#: Largest frame accepted, as the server's default ``--max-frame`` (PROTOCOL.md §1).
MAX_FRAME = 16 * 1024 * 1024
#: The largest frame taken before login (login frames are small), as the server takes.
MAX_LOGIN_FRAME = 64 * 1024
#: A connection that has not logged in after this long is closed.
LOGIN_SECONDS = 30.0
#: A call running longer than this (up to twice this) with the read role free gets another
#: reader thread for its connection; see :mod:`.connection` for why not hand off every time.
_STALL_SECONDS = 0.005
_RECV_BYTES = 256 * 1024
#: Calls in flight (read and not answered yet) on one direct connection: the server's limit per
#: connection (PROTOCOL.md §8). A call past it is answered 429 ``TooMany`` without running.
MAX_IN_FLIGHT = 4096
#: Answers waiting to be written on one direct connection, in bytes, past which its client is a
#: slow consumer and the connection is closed: the server's ``--max-pending-output`` default (or
#: twice the largest answer, if more).
MAX_PENDING_OUTPUT = 32 * 1024 * 1024
_HEADER = struct.Struct(">I")

_thread_ids = itertools.count(1)
#: Every open listener of this process, for the fork handler below.
_listeners: "weakref.WeakSet[Listener]" = weakref.WeakSet()


def _close_in_child() -> None:
    """After fork: the child serves nothing, and must not keep the parent's listening socket
    and direct connections open (a client would then never see them close). Only the child's
    copies of the descriptors are closed (TLS state is left alone); no lock is taken (their
    holders did not fork). The watchdog starts afresh: its thread did not fork, and a child
    that hosts types of its own needs one."""
    global _watchdog
    _watchdog = _Watchdog()
    for listener in list(_listeners):
        listener._closed = True
        for sock in [listener._sock] + [p._sock for p in list(listener._peers)]:
            try:
                sock.close()
            except OSError:
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


def setting(environ: Optional[Dict[str, str]] = None) -> Any:
    """``ORCH_DIRECT`` parsed: ``True`` (default), ``False`` (off) or a ``(host, port)``."""
    value = (os.environ if environ is None else environ).get("ORCH_DIRECT", "").strip()
    low = value.lower()
    if low in ("", "on", "1", "true", "yes"):
        return True
    if low in ("off", "0", "false", "no"):
        return False
    return _auth.parse_address(value)


def enabled_for_clients() -> bool:
    """False when ``ORCH_DIRECT`` is ``off``/``0``: every call goes through the server."""
    return os.environ.get("ORCH_DIRECT", "").strip().lower() not in ("off", "0", "false", "no")


#: PEM files of the certificate and key a worker's direct port presents (both or neither).
CERT_ENV = "ORCH_DIRECT_CERT"
KEY_ENV = "ORCH_DIRECT_KEY"


def server_tls_context(environ: Optional[Dict[str, str]] = None) -> Optional[ssl.SSLContext]:
    """The TLS context of a worker's direct port from ``ORCH_DIRECT_CERT`` and
    ``ORCH_DIRECT_KEY``, or None when neither is set. Raises ValueError when only one is set or
    the files are not a usable certificate and key, OSError when one cannot be read: a
    certificate meant to be used must not be dropped silently (the Java worker fails too)."""
    env = os.environ if environ is None else environ
    cert = env.get(CERT_ENV, "").strip()
    key = env.get(KEY_ENV, "").strip()
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError("%s and %s go together: set both (PEM files) or neither (%s is not set)"
                         % (CERT_ENV, KEY_ENV, KEY_ENV if cert else CERT_ENV))
    for var, path in ((CERT_ENV, cert), (KEY_ENV, key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            raise OSError(e.errno, "cannot read %s=%s for direct calls: %s"
                          % (var, path, e.strerror or e)) from e
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if hasattr(context, "num_tickets"):
        context.num_tickets = 0  # clients keep one connection per worker: nothing to resume
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as e:
        reason = getattr(e, "reason", None)  # e.g. KEY_VALUES_MISMATCH; None for "PEM lib"
        raise ValueError("cannot use %s=%s and %s=%s for direct calls: %s"
                         % (CERT_ENV, cert, KEY_ENV, key, reason
                            or "not a PEM certificate and its private key (%s)" % e)) from e
    return context


def client_tls_context(cafile: Optional[str]) -> ssl.SSLContext:
    """How a client checks the server and workers' direct ports: the certificate chain against
    ``cafile`` but not the host name, since servers and workers in a cluster are addressed by
    IP and the file is the deployment's own trust; the login then proves the peer holds the key.
    Without a CA file the system's roots vouch for any public certificate, so the host name is
    checked as well. The Java client does the same."""
    context = trusting(ssl.create_default_context(cafile=cafile), cafile)
    context.check_hostname = cafile is None
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def trusting(context: ssl.SSLContext, cafile: Optional[str]) -> ssl.SSLContext:
    """With a CA file, makes every certificate in it a trust anchor, also a leaf issued by a CA
    (e.g. the server's own ``--tls-cert``, handed to its children as ``ORCH_TLS_CA``), as Java's
    PKIX does; OpenSSL otherwise wants the chain to end at a self-signed root. Python 3.10+."""
    if cafile is not None and hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def _shutdown(sock: socket.socket) -> None:
    """Shuts ``sock`` down for both directions, which wakes a thread blocked reading it.

    For a TLS socket too, only the socket's own shutdown: no close_notify."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


def format_address(host: str, port: int) -> str:
    """``HOST:PORT``, with brackets around an IPv6 host."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def start_listener(host: "Host", conn: "Connection") -> Optional["Listener"]:
    """The listener a worker offers with its ``host`` requests, or None (off, a TLS server
    connection without ``ORCH_DIRECT_CERT``, or it could not listen: then every call goes
    through the server, as without this feature). Raises as :func:`server_tls_context` does."""
    try:
        where = setting()
    except ValueError as e:
        log.warning("orch: ignoring ORCH_DIRECT: %s", e)
        where = True
    if where is False:
        return None
    context = server_tls_context()
    if context is None and conn.tls:
        return None  # what is encrypted to the server must not reach this worker in the clear
    try:
        if where is True:
            bind, advertise = (conn.local_host, 0), None
        else:
            bind, advertise = where, where[0]
        return Listener(host, conn, bind, advertise, context).start()
    except OSError as e:
        log.warning("orch: cannot listen for direct calls on %s: %s; calls go through the server",
                    format_address(*bind), e)
        return None


class Listener:
    """Accepts direct connections for one :class:`~orch.hosting.Host`."""

    def __init__(self, host: "Host", conn: "Connection", bind: Tuple[str, int],
                 advertise_host: Optional[str], tls: Optional[ssl.SSLContext] = None) -> None:
        self._host = host
        self._tls = tls
        self._authkey: bytes = conn.authkey
        self._conn = conn
        family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(bind)
            sock.listen(128)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        port = sock.getsockname()[1]
        #: The ``HOST:PORT`` sent as ``direct`` with each ``host`` request.
        self.address = format_address(advertise_host or bind[0], port)
        #: True when connections must speak TLS (sent as ``directTls``).
        self.tls = tls is not None
        self._peers: Set[_Peer] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> "Listener":
        _listeners.add(self)
        threading.Thread(target=self._accept_loop, name="orch-direct-listener-" + self.address,
                         daemon=True).start()
        return self

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                sock, peer_address = self._sock.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.05)  # EMFILE and the like: do not spin
                continue
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            if self._tls is not None:
                try:
                    # No I/O here: the handshake runs on the connection's thread (_Peer._recv).
                    sock = _tls.TlsSocket(sock, self._tls, server_side=True)  # type: ignore[assignment]
                except (OSError, ValueError) as e:
                    log.info("orch: dropped a direct connection from %s: %s", peer_address, e)
                    sock.close()
                    continue
            peer = _Peer(self, sock, peer_address)
            with self._lock:
                if self._closed:
                    peer.close()
                    return
                self._peers.add(peer)
            peer.spawn()

    def _forget(self, peer: "_Peer") -> None:
        with self._lock:
            self._peers.discard(peer)

    @property
    def peers(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._peers)

    def close(self, *_ignored: Any) -> None:
        """Stops listening and closes every direct connection (calls running finish, their
        replies are dropped)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            peers, self._peers = list(self._peers), set()
        _shutdown(self._sock)  # wakes accept()
        self._sock.close()
        for p in peers:
            p.close()


class _Peer:
    """One accepted connection: login, then calls."""

    def __init__(self, listener: Listener, sock: socket.socket, peer_address: Any) -> None:
        self._listener = listener
        self._host = listener._host
        self._sock = sock
        self._where = peer_address
        self._handshake: Optional[_auth.ServerHandshake] = _auth.ServerHandshake(listener._authkey)
        self._logged_in = False
        self._session: Optional[str] = None  # the caller's session at the server, from login
        self._closed = False
        self._role = threading.Lock()
        self._write_lock = threading.Lock()
        self._state = threading.Lock()  # guards _running, _seq and _out_bytes
        self._running = 0  # calls in flight on this connection: read and not answered yet
        self._seq = 0  # calls started so far; the watchdog sees whether one ran a whole period
        # Answers (and other frames) waiting for the holder of _write_lock to write them, and
        # their bytes; past _out_limit the client is a slow consumer (PROTOCOL.md §8).
        self._out: Deque[bytes] = collections.deque()
        self._out_bytes = 0
        largest = self._host.max_frame
        # The server's frame limit, known since this worker logged in: an answer larger fails.
        self._reply_limit = largest
        self._out_limit = max(MAX_PENDING_OUTPUT,
                              2 * (MAX_FRAME if largest == float("inf") else int(largest)))
        # Used only by the holder of the read role:
        self._buf = bytearray()
        self._rbuf = memoryview(bytearray(_RECV_BYTES))
        self._frames: Deque[Any] = collections.deque()
        # Until login, every read (and a TLS handshake) waits at most until this; then blocking.
        self._deadline = time.monotonic() + LOGIN_SECONDS
        self._handshake_due = isinstance(sock, _tls.TlsSocket)
        sock.settimeout(LOGIN_SECONDS)

    # -- threads -----------------------------------------------------------------------------

    def spawn(self) -> None:
        """Starts a thread that takes the read role if it is free (else exits at once)."""
        threading.Thread(target=self._serve, name="orch-direct-%d" % next(_thread_ids),
                         daemon=True).start()

    def _serve(self) -> None:
        role = self._role
        state = self._state
        while True:
            if not role.acquire(blocking=False):
                return  # another thread reads
            try:
                if self._closed:
                    self._finish()
                    return
                try:
                    frame = self._read_until_call()
                except (OSError, EOFError, ValueError):  # ValueError: fd closed meanwhile
                    self._lost()
                    self._finish()
                    return
                if frame is None:  # closed after an answer (bad login, bad length)
                    self._finish()
                    return
                # Counted before the role is given up: the next reader holds it to the limit.
                with state:
                    self._running += 1
                    self._seq += 1
            finally:
                role.release()
            self._call(frame)
            # Not kept while this thread waits for the next call: the proxies the call was
            # handed for its references go now (PROTOCOL.md §7).
            del frame

    def _read_until_call(self) -> Optional[Dict[str, Any]]:
        """Answers frames other than calls here (under the role, in order) and returns the next
        call to run; None once the connection must close."""
        frames = self._frames
        while not self._closed:
            if not frames:
                self._recv()
                continue
            frame = frames.popleft()
            if type(frame) is dict:
                if (self._logged_in and frame.get("type") == "send"
                        and type(frame.get("replyAddress")) is str):
                    address = frame.get("address")
                    if type(address) is str and address.startswith("orch.obj."):
                        if self._running < MAX_IN_FLIGHT:
                            return frame
                        self._write_err(frame["replyAddress"], 429, "TooMany",
                                        "more than %d calls in flight" % MAX_IN_FLIGHT)
                        continue
                self._other(frame)
            elif frame[0] == 400:
                self._write_err(frame[2], 400, "BadRequest", frame[1])
            else:  # 413: the stream cannot be resynchronised
                self._write_last(_encode_err(None, 413, "FrameTooLarge", frame[1]))
                return None
        return None

    def _recv(self) -> None:
        if not self._logged_in:
            self._before_login()
        n = self._sock.recv_into(self._rbuf)
        if not n:
            raise EOFError("peer closed the connection")
        buf = self._buf
        data = self._rbuf[:n]
        if buf:
            buf += data
            src: Any = buf
        else:
            src = data
        frames = self._frames
        pos, end_all = 0, len(src)
        # Until login a peer gets only what login takes (PROTOCOL.md §3), as from the server.
        limit = MAX_FRAME if self._logged_in else min(MAX_FRAME, MAX_LOGIN_FRAME)
        while end_all - pos >= 4:
            (length,) = _HEADER.unpack_from(src, pos)
            if length == 0 or length > limit:
                frames.append((413, "frame length %d is outside 1..%d%s" % (
                    length, limit, "" if self._logged_in else " before login")))
                pos = end_all
                break
            end = pos + 4 + length
            if end > end_all:
                break
            try:
                frames.append(_framing.decode_payload(src[pos + 4:end]))
            except _framing.FrameError as e:  # to the call's reply address, if readable
                frames.append((400, str(e), e.reply_address))
            pos = end
        if src is buf:
            del buf[:pos]
        elif pos < end_all:
            buf += src[pos:]

    def _before_login(self) -> None:
        """Bounds the next read by the login deadline (one for the whole login, so a peer that
        sends a byte now and then cannot hold the connection), after the TLS handshake."""
        sock = self._sock
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no login within %.0f s" % LOGIN_SECONDS)
        sock.settimeout(left)
        if self._handshake_due:
            try:
                sock.do_handshake()  # type: ignore[attr-defined]
            except OSError as e:  # ssl.SSLError, timeout, reset
                log.info("orch: TLS handshake with %s failed: %s", self._where, e)
                raise
            self._handshake_due = False
            sock.settimeout(max(0.001, self._deadline - time.monotonic()))

    # -- frames ------------------------------------------------------------------------------

    def _other(self, frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        reply_to = frame.get("replyAddress")
        reply_to = reply_to if isinstance(reply_to, str) else None
        if kind == "ping":
            self._write(b'\x00\x00\x00\x0f{"type":"pong"}')
            return
        if kind == "send" and frame.get("address") == "orch.auth":
            self._auth(frame.get("body"), reply_to)
            return
        if not self._logged_in:
            self._write_err(reply_to, 401, "Unauthenticated", "log in first")
            return
        if not isinstance(kind, str):
            detail = "frame has no string 'type'"
        elif kind != "send":
            detail = "a direct connection takes only calls and ping, not '%s'" % kind
        elif not isinstance(frame.get("address"), str):
            detail = "send has no string 'address'"
        elif reply_to is None:
            detail = "a call needs a string 'replyAddress'"
        else:
            detail = "a direct connection takes calls to orch.obj.ID only, not '%s'" % (
                frame.get("address"),)
        self._write_err(reply_to, 400, "BadRequest", detail)

    def _auth(self, body: Any, reply_to: Optional[str]) -> None:
        if reply_to is None:
            self._write_err(None, 400, "BadRequest", "orch.auth needs a replyAddress")
            return
        if self._logged_in or self._handshake is None:
            self._write_err(reply_to, 400, "BadRequest", "already logged in")
            return
        body = body if isinstance(body, dict) else {}
        op = body.get("op")
        if op == "challenge":
            reply, error = self._handshake.challenge(body)
            if error is not None:
                self._write_err(reply_to, error[0], "BadRequest", error[1])
            else:
                self._write(_framing.encode({"type": "message", "address": reply_to,
                                             "body": reply}))
        elif op == "login":
            proved, error = self._handshake.login(body)
            if error is not None:
                log.info("orch: refused a direct login from %s: %s", self._where, error[1])
                self._write_last(_encode_err(reply_to, 401, "Unauthenticated", error[1]))
                return
            session = body.get("session")
            self._session = session if isinstance(session, str) else None
            self._logged_in = True
            self._handshake = None
            self._sock.settimeout(None)
            import orch  # the package, for its version (it imports this module)
            self._write(_framing.encode({"type": "message", "address": reply_to, "body": {
                "session": self._listener._conn.session, "protocol": 1, "maxFrame": MAX_FRAME,
                "server": "orch-worker/%s" % getattr(orch, "__version__", "0"), **proved}}))
        else:
            self._write_err(reply_to, 400, "BadRequest",
                            "orch.auth op must be 'challenge' or 'login'")

    def _call(self, frame: Dict[str, Any]) -> None:
        """Runs one call (counted in ``_running`` by its reader) on this thread and writes its
        answer, which ends the count."""
        reply_to = frame["replyAddress"]
        host = self._host
        try:
            _watchdog.call_started(self)
            body = frame.get("body")
            if not isinstance(body, dict):
                raise _BadRequest("'body' must be a JSON object")
            if type(body.get("method")) is not str:
                raise _BadRequest("call body needs a string 'method'")
            data = _framing.encode_message(
                reply_to, host.execute(frame["address"], body, self._session))
            if len(data) - _framing.HEADER_SIZE > self._reply_limit:
                host.check_reply_size(len(data) - _framing.HEADER_SIZE)
        except BaseException as e:
            data = _err_frame(reply_to, e, self._host.max_frame)
        self._write(data, True)

    def _write_err(self, reply_to: Optional[str], code: int, name: str, detail: str) -> None:
        self._write(_encode_err(reply_to, code, name, detail))

    def _write(self, data: bytes, answer: bool = False) -> None:
        """Writes ``data`` on this thread if no other thread writes now; else queues it for the
        one that does, which writes it before it lets go of the lock (a client that does not
        read blocks that one thread, not every call's). ``answer``: ``data`` answers a call,
        whose count ends once the answer is in the writer's hands (the lock held, or queued),
        so that the watchdog, which looks at both, never sees neither."""
        lock = self._write_lock
        if lock.acquire(blocking=False):
            if answer:
                with self._state:
                    self._running -= 1
            try:
                self._sock.sendall(data)
                if self._out:
                    self._drain()
            except (OSError, ValueError):
                self._lost()
            finally:
                lock.release()
            if self._out:  # queued after the holder last looked: someone must write it
                self._flush()
            return
        state = self._state
        with state:
            self._out_bytes += len(data)
            queued = self._out_bytes
        if queued <= self._out_limit:
            self._out.append(data)
        if answer:  # queued first: the watchdog sees the answer wait (see above)
            with state:
                self._running -= 1
        if queued > self._out_limit:
            self._slow_consumer(queued)
            return
        self._flush()

    def _flush(self) -> None:
        """Writes the queued frames unless another thread holds the lock (it writes them)."""
        lock = self._write_lock
        while self._out and not self._closed and lock.acquire(blocking=False):
            try:
                self._drain()
            except (OSError, ValueError):
                self._lost()
            finally:
                lock.release()

    def _drain(self) -> None:
        """Writes the queued frames; by the holder of the write lock."""
        out, state = self._out, self._state
        while out and not self._closed:
            data = out.popleft()
            self._sock.sendall(data)
            with state:
                self._out_bytes -= len(data)

    def _write_last(self, data: bytes) -> None:
        """Writes ``data`` after what is queued, waiting for the lock, then closes."""
        try:
            with self._write_lock:
                self._drain()
                self._sock.sendall(data)
        except (OSError, ValueError):
            pass
        self._lost()

    def _slow_consumer(self, queued: int) -> None:
        """Closes the connection of a client that does not read its answers (the server's
        slow consumer, PROTOCOL.md §8): what it has not read is dropped."""
        if not self._closed:
            log.warning("orch: closing the direct connection from %s (session %s): a slow "
                        "consumer, %d bytes of answers unwritten (limit %d)",
                        self._where, self._session, queued, self._out_limit)
        self._lost()

    # -- closing -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def writing(self) -> bool:
        """A thread writes (maybe blocked by a client that does not read), or frames wait."""
        return bool(self._out) or self._write_lock.locked()

    def call_stalled(self) -> bool:
        """For the watchdog: a call runs, or a thread writes, and nobody holds the read role.
        Only one thread at a time writes; the others queue what they write and go back to
        reading, so a writer blocked by a client that does not read earns one reader, once."""
        return (not self._closed and (self._running > 0 or self.writing)
                and not self._role.locked())

    def _lost(self) -> None:
        """Marks the connection closed and wakes its reader (idempotent, any thread)."""
        if self._closed:
            return
        self._closed = True
        self._listener._forget(self)
        _shutdown(self._sock)

    close = _lost

    def _finish(self) -> None:
        """Closes the socket; by the holder of the read role, so no thread reads it then."""
        self._lost()
        with self._write_lock:
            try:
                self._sock.close()
            except OSError:
                pass


class _BadRequest(Exception):
    pass


def _err_frame(reply_to: str, exc: BaseException, limit: float = float("inf")) -> bytes:
    """The ``err`` frame the server would send for a call that failed with ``exc``, its
    message cut as the server-routed answer's would be (``limit``: the server's ``maxFrame``),
    so a call fails the same way by either route. Never raises: every call gets an answer."""
    from .hosting import failure_body  # hosting imports this module
    if isinstance(exc, _BadRequest):
        code, name, detail = 400, "BadRequest", str(exc)
    else:
        error = failure_body(exc, limit)["error"]
        code, name, detail = error["code"], error["name"], error["message"]
    return _encode_err(reply_to, code, name, detail)


def _encode_err(reply_to: Optional[str], code: int, name: str, detail: str) -> bytes:
    """An ``err`` frame (to ``reply_to``, if not None). Never raises: text that UTF-8 cannot
    encode (a reply address or a frame's type, as sent, with a lone surrogate) is written as
    JSON escapes, which the client decodes back to what it sent."""
    frame: Dict[str, Any] = {"type": "err"}
    if reply_to is not None:
        frame["address"] = reply_to
    frame.update(failureCode=code, failureType="RECIPIENT_FAILURE", name=name,
                 message="%s: %s" % (name, detail))
    try:
        return _framing.encode(frame)
    except (TypeError, ValueError):
        payload = json.dumps(frame, ensure_ascii=True, default=repr).encode("ascii")
        return _HEADER.pack(len(payload)) + payload


class _Watchdog:
    """One per process: gives a connection another reader thread when a call has run for a
    whole period with the read role free. Ticks only while calls run; parks otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peers: Dict[_Peer, int] = {}  # peers with calls started, -> _seq at the last tick
        self._parked = True
        self._thread: Optional[threading.Thread] = None
        self._wake = threading.Lock()
        self._wake.acquire()

    def call_started(self, peer: _Peer) -> None:
        # Cheap on the hot path: a dict lookup, and a wake-up only when parked.
        if peer not in self._peers or self._parked:
            with self._lock:
                self._peers.setdefault(peer, -1)
                if self._parked:
                    self._parked = False
                    if self._thread is None or not self._thread.is_alive():
                        self._thread = threading.Thread(target=self._run,
                                                        name="orch-direct-watchdog", daemon=True)
                        self._thread.start()
                    else:
                        self._wake.release()

    def _run(self) -> None:
        while True:
            time.sleep(_STALL_SECONDS)
            busy = False
            with self._lock:
                peers = list(self._peers.items())
            for peer, last in peers:
                if peer.closed:
                    with self._lock:
                        self._peers.pop(peer, None)
                    continue
                with peer._state:
                    running, seq = peer._running, peer._seq
                if running or peer.writing:
                    busy = True
                    if seq == last and peer.call_stalled():
                        peer.spawn()
                self._peers[peer] = seq
            if busy:
                continue
            with self._lock:
                self._parked = True
                self._peers = {p: -1 for p in self._peers if not p.closed}
            # A call that started before _parked was set did not wake us: look again.
            if any(p._running or p.writing for p in list(self._peers)):
                with self._lock:
                    if self._parked:
                        self._parked = False
                        continue
                # call_started unparked us meanwhile and released _wake: take that release.
                self._wake.acquire()
                continue
            self._wake.acquire()


_watchdog = _Watchdog()


def host_gone(address: str, error: BaseException) -> BaseException:
    """The exception for calls in flight on a lost direct connection: the one a 410
    ``HostGone`` from the server gives."""
    return remote_error(410, "HostGone", "HostGone: the direct connection to the hosting worker "
                        "at %s was lost (%s)" % (address, error))


# -- client side ---------------------------------------------------------------------------------

#: Longest a client waits to connect and log in to a worker before it routes through the server.
CONNECT_SECONDS = 3.0
#: How long a worker address that failed stays unused (its calls go through the server); this
#: doubles with each failed retry up to RETRY_MAX_SECONDS.
RETRY_SECONDS = 30.0
RETRY_MAX_SECONDS = 600.0


class Route:
    """A Manager's way to the objects one worker offers at one direct address, plain or over
    TLS (``tls``, the offer's ``directTls``; a plain and a TLS offer at one address are two
    routes): the direct connection, opened on first use, or None while the address is unusable
    (then the proxy calls through the server)."""

    def __init__(self, manager: Any, address: str, host_session: str, tls: bool = False) -> None:
        self.address = address
        self.host = host_session
        self.tls = tls
        #: The open direct connection, or None; read without a lock on every call.
        self.conn: Optional["Connection"] = None
        self._manager = manager
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._failures = 0
        self._retrying = False
        self._closed = False
        self._pid = os.getpid()

    def connection(self) -> Optional["Connection"]:
        """The direct connection, (re)opened if needed; None to call through the server.

        Only the first attempt makes the caller wait (so a program's first call already goes
        direct). After a failure the address is tried again in the background, after
        ``RETRY_SECONDS`` doubling up to ``RETRY_MAX_SECONDS``, while calls go through the
        server: a network that drops connections to workers costs one connect timeout, not one
        per retry."""
        conn = self.conn
        if conn is not None and not conn.closed:
            return conn
        with self._lock:
            conn = self.conn
            if conn is not None and not conn.closed:
                return conn
            self.conn = None
            if (self._closed or self._retrying or os.getpid() != self._pid
                    or time.monotonic() < self._retry_at):
                return None  # after fork the server connection raises, as it always did
            if self._failures == 0:
                return self._settle(self._open())
            self._retrying = True
        threading.Thread(target=self._retry, name="orch-direct-connect", daemon=True).start()
        return None

    def _retry(self) -> None:
        conn = self._open()
        with self._lock:
            self._retrying = False
            used = self._settle(conn)
        if conn is not None and used is None:
            conn.close()

    def _settle(self, conn: Optional["Connection"]) -> Optional["Connection"]:
        """Records an attempt's outcome (under the lock); the connection to use, or None."""
        if conn is None:
            server = self._manager._conn
            if server is None or server.closed:
                # The Manager's own connection is down, not the worker: the call fails through
                # the server as it should, and nothing counts against the worker's address.
                return None
            self._failures += 1
            wait = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** min(self._failures - 1, 10))
            self._retry_at = time.monotonic() + wait
            log.info("orch: no direct connection to %s; calling through the server, next try in "
                     "%.0f s", self._label(), wait)
            return None
        if self._closed:
            return None
        self._failures = 0
        self.conn = conn
        return conn

    def _open(self) -> Optional["Connection"]:
        server = self._manager._conn
        if server is None or server.closed:
            return None
        from .connection import Connection  # connection does not import this module
        try:
            # Over TLS a certificate this client does not trust fails the handshake: the worker
            # then counts as unreachable, like one that refuses the connection.
            context = self._manager._direct_tls_context() if self.tls else None
            conn = Connection(_auth.parse_address(self.address), server.authkey,
                              ssl_context=context, connect_timeout=CONNECT_SECONDS,
                              login_session=server.session, peer="orch worker").open()
        except Exception as e:  # refused, timed out, untrusted, wrong key, not a worker…
            log.info("orch: cannot call %s directly: %s", self._label(), e)
            return None
        if conn.session != self.host:
            conn.close()
            log.warning("orch: %s answered as session %s, not the object's host %s",
                        self.address, conn.session, self.host)
            return None
        return conn

    def _label(self) -> str:
        return self.address + (" (TLS)" if self.tls else "")

    @property
    def closed(self) -> bool:
        """True once the Manager closed this route (its own close, or a new connection)."""
        return self._closed

    def close(self) -> None:
        """Closes the direct connection; in a forked child only the child's copy of it,
        without the lock (a thread of the parent may have held it when it forked)."""
        if os.getpid() != self._pid:
            self._closed = True
            conn, self.conn = self.conn, None
        else:
            with self._lock:
                self._closed = True
                conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()
