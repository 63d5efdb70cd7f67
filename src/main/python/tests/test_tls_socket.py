"""orch._tls.TlsSocket against a peer that ends the connection: every Python from 3.9 on must
report the end (recv_into answers 0), whether the peer said close_notify or just vanished."""
import shutil
import socket
import ssl
import tempfile
import threading
import unittest
from pathlib import Path

from orch import _tls
from tests.support import self_signed_cert


@unittest.skipUnless(shutil.which("openssl"), "openssl not installed (needed to make test certs)")
class PeerEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.TemporaryDirectory()
        cert, key = self_signed_cert(Path(cls.dir.name), "peer")
        cls.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cls.server_ctx.load_cert_chain(cert, key)
        cls.client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cls.client_ctx.load_verify_locations(cert)
        cls.client_ctx.check_hostname = False

    @classmethod
    def tearDownClass(cls) -> None:
        cls.dir.cleanup()

    def connect_to_peer(self, then) -> _tls.TlsSocket:
        """A TlsSocket to a TLS server thread that accepts, handshakes and runs ``then(conn)``."""
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)

        def serve() -> None:
            raw, _ = listener.accept()
            with self.server_ctx.wrap_socket(raw, server_side=True) as conn:
                then(conn)

        peer = threading.Thread(target=serve, daemon=True)
        peer.start()
        sock = socket.create_connection(listener.getsockname(), timeout=10)
        tls = _tls.TlsSocket.client(sock, self.client_ctx, None)
        # Cleanups run last first: our end closes, then the peer (which may wait on it) ends.
        self.addCleanup(peer.join, 10)
        self.addCleanup(tls.close)
        return tls

    def read_all(self, tls: _tls.TlsSocket) -> bytes:
        """Reads to the end on a thread: a recv that spins or blocks fails the test, not hangs it."""
        got, done = [], threading.Event()

        def read() -> None:
            buf = bytearray(64)
            while True:
                n = tls.recv_into(buf)
                if not n:
                    break
                got.append(bytes(buf[:n]))
            done.set()

        threading.Thread(target=read, daemon=True).start()
        self.assertTrue(done.wait(10), "recv_into did not report the peer's end")
        return b"".join(got)

    def test_peer_vanishing_without_close_notify_reads_as_the_end(self):
        # SSLSocket.close() closes the descriptor and sends no close_notify: a killed process.
        tls = self.connect_to_peer(lambda conn: conn.sendall(b"last words"))
        self.assertEqual(self.read_all(tls), b"last words")
        self.assertEqual(tls.recv_into(bytearray(8)), 0, "the end stays the end")

    def test_peer_closing_with_close_notify_reads_as_the_end(self):
        def say_goodbye(conn: ssl.SSLSocket) -> None:
            conn.sendall(b"bye")
            try:
                # Sends close_notify, then waits for the client's, which does not answer: it
                # closes, and unwrap reports that as an EOF (or a reset) here.
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass

        tls = self.connect_to_peer(say_goodbye)
        self.assertEqual(self.read_all(tls), b"bye")


if __name__ == "__main__":
    unittest.main()
