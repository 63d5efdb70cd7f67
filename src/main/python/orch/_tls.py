"""TLS over a plain socket that one thread may read while others write.

orch reads every connection on one thread while callers write requests (or, in a worker, answers)
from others. ``ssl.SSLSocket`` runs OpenSSL on the socket itself, and OpenSSL does not allow one
``SSL`` object to be used by two threads at once: a read that processes a post-handshake message
(a TLS 1.3 key update) while another thread writes may corrupt it. Here OpenSSL only ever works
on memory buffers, under a lock held for microseconds; the socket's own reads and writes happen
outside that lock, so a reader blocked in ``recv`` never delays a writer.
"""

import socket
import ssl
import threading
from typing import Any, Optional

_CHUNK = 64 * 1024


class TlsSocket:
    """The subset of a socket orch's connections use, encrypted with TLS.

    At most one thread reads at a time (orch's reader role guarantees it); any number write.
    """

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, *, server_side: bool = False,
                 server_hostname: Optional[str] = None) -> None:
        """Wraps ``sock`` without any I/O; call :meth:`do_handshake` next."""
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._incoming, self._outgoing, server_side=server_side,
                                     server_hostname=server_hostname)
        self._lock = threading.Lock()  # the SSL object and both memory buffers
        # Whoever holds it sends what the SSL object produced, so records leave in their order.
        self._send_lock = threading.Lock()
        # Reader side only: plaintext decrypted and not yet returned, and the raw receive buffer.
        self._plain = bytearray()
        self._raw = memoryview(bytearray(_CHUNK))
        self._eof = False

    @classmethod
    def client(cls, sock: socket.socket, context: ssl.SSLContext,
               server_hostname: Optional[str]) -> "TlsSocket":
        """Wraps ``sock`` and runs the client handshake; ``sock``'s timeout bounds each step."""
        tls = cls(sock, context, server_hostname=server_hostname)
        tls.do_handshake()
        return tls

    def do_handshake(self) -> None:
        """Runs the handshake to the end; raises ``ssl.SSLError`` (certificate refused…),
        ``socket.timeout`` or ``ConnectionError`` as ``SSLSocket.do_handshake`` would."""
        while True:
            try:
                with self._lock:
                    self._ssl.do_handshake()
                self._flush(block=True)
                return
            except ssl.SSLWantReadError:
                self._flush(block=True)
                if not self._receive():
                    raise ConnectionResetError("the peer closed the connection during the TLS "
                                               "handshake")

    # -- reading (one thread at a time) ------------------------------------------------------

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """Reads decrypted bytes into ``buffer``, blocking until there are some; 0 at the end."""
        view = memoryview(buffer)
        n = nbytes or len(view)
        while True:
            plain = self._plain
            if plain:
                k = min(n, len(plain))
                view[:k] = plain[:k]
                del plain[:k]
                return k
            if self._eof:
                return 0
            with self._lock:
                k = self._read_locked(n, view)
                if k:
                    # Decrypt every whole record now, so that the memory buffer never holds one
                    # that pending() does not count and poll() on the socket would not see.
                    self._drain_locked()
                produced = self._outgoing.pending
            if produced:  # e.g. the answer to a key update: sent now unless a writer is sending
                self._flush(block=False)
            if k:
                return k
            if self._eof:
                return 0
            self._receive()

    def pending(self) -> int:
        """Decrypted bytes that a read returns without touching the socket."""
        return len(self._plain)

    # A read that returns nothing, rather than raising SSLWantReadError, is the end: Python
    # answers b"" for the peer's close_notify, and on 3.9 also for a peer that vanished without
    # one (later versions raise SSLEOFError). Taking it for "no data yet" would wait on a socket
    # the peer keeps open for our close_notify, or spin on one that has ended.

    def _read_locked(self, n: int, view: memoryview) -> int:
        try:
            k = self._ssl.read(n, view)
        except ssl.SSLWantReadError:
            return 0
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            k = 0
        if not k:
            self._eof = True
        return k

    def _drain_locked(self) -> None:
        while not self._eof:
            try:
                chunk = self._ssl.read(_CHUNK)
            except ssl.SSLWantReadError:
                return
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                chunk = b""
            if not chunk:
                self._eof = True
                return
            self._plain += chunk

    def _receive(self) -> bool:
        """Moves the next bytes from the socket into the SSL object; False at the socket's end."""
        got = self._sock.recv_into(self._raw)
        with self._lock:
            if got:
                self._incoming.write(self._raw[:got])
            else:
                self._incoming.write_eof()
        return bool(got)

    # -- writing (any thread) ----------------------------------------------------------------

    def sendall(self, data: Any) -> None:
        """Encrypts ``data`` and sends it (with anything encrypted before it) before returning."""
        with self._lock:
            self._ssl.write(data)
        self._flush(block=True)

    def _flush(self, block: bool) -> None:
        """Sends what the SSL object has produced. Without ``block``, leaves it to the thread
        sending now, which looks again once it has let go of the send lock."""
        while self._send_lock.acquire(blocking=block):
            try:
                while True:
                    with self._lock:
                        data = self._outgoing.read()
                    if not data:
                        break
                    self._sock.sendall(data)
            finally:
                self._send_lock.release()
            with self._lock:
                if not self._outgoing.pending:
                    return

    # -- the socket underneath ---------------------------------------------------------------

    def fileno(self) -> int:
        return self._sock.fileno()

    def settimeout(self, timeout: Optional[float]) -> None:
        self._sock.settimeout(timeout)

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._ssl.getpeercert(binary_form)

    def version(self) -> Optional[str]:
        return self._ssl.version()

    def shutdown(self, how: int) -> None:
        """Shuts the socket down (no TLS close_notify), which wakes a thread blocked reading it."""
        self._sock.shutdown(how)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "TlsSocket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
