"""The mutual HMAC-SHA256 login of PROTOCOL.md §3, and authkey/address resolution.

The key never crosses the wire: each side MACs both nonces with its role label, so the client
also learns whether the *server* holds the key before it sends anything of its own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Optional, Tuple, Union

NONCE_BYTES = 32
ALGORITHM = "HMAC-SHA256"
DEFAULT_ADDRESS = ("127.0.0.1", 55555)
_SERVER_LABEL = b"orch-server"
MAX_KEY_BYTES = 65536  # the largest key file read, as AuthKeys.MAX_KEY_BYTES
_CLIENT_LABEL = b"orch-client"


def nonce() -> bytes:
    """32 random bytes from the OS."""
    return os.urandom(NONCE_BYTES)


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: object) -> Optional[bytes]:
    """Decodes standard base64, or returns None if ``text`` is not base64."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None


def _mac(key: bytes, *parts: bytes) -> bytes:
    m = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        m.update(p)
    return m.digest()


def server_proof(key: bytes, client_nonce: bytes, server_nonce: bytes) -> bytes:
    """HMAC(key, "orch-server" ‖ clientNonce ‖ serverNonce)."""
    return _mac(key, _SERVER_LABEL, client_nonce, server_nonce)


def client_proof(key: bytes, server_nonce: bytes, client_nonce: bytes) -> bytes:
    """HMAC(key, "orch-client" ‖ serverNonce ‖ clientNonce)."""
    return _mac(key, _CLIENT_LABEL, server_nonce, client_nonce)


def matches(expected: bytes, actual: Optional[bytes]) -> bool:
    """Constant-time comparison."""
    return actual is not None and hmac.compare_digest(expected, actual)


class ServerHandshake:
    """The server's side of the login on one connection, for a worker taking direct calls
    (PROTOCOL.md §3 and §7 "Direct calls"): the same labels, the worker in the server's role.

    Feed it the bodies of ``send`` frames to ``orch.auth``; :meth:`challenge` answers the first,
    :meth:`login` checks the second. Errors come back as ``(code, detail)`` so the caller can
    answer with an ``err`` frame as the server would.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._client_nonce: Optional[bytes] = None
        self._server_nonce: Optional[bytes] = None

    def challenge(self, body: dict) -> Tuple[Optional[dict], Optional[Tuple[int, str]]]:
        """The reply body to ``{"op":"challenge","clientNonce":…}``, or ``(400, why)``."""
        client_nonce = unb64(body.get("clientNonce"))
        if client_nonce is None or not 16 <= len(client_nonce) <= 1024:
            return None, (400, "clientNonce must be base64 of 16 to 1024 bytes")
        self._client_nonce = client_nonce
        self._server_nonce = nonce()
        # No proof of ours yet: a MAC given to a peer that has proved nothing would let it
        # guess the key offline. It comes with the login reply.
        return {"serverNonce": b64(self._server_nonce), "alg": ALGORITHM}, None

    def login(self, body: dict) -> Tuple[Optional[dict], Optional[Tuple[int, str]]]:
        """For ``{"op":"login","proof":…}`` that proves the key, the fields to add to the login
        reply (``serverProof``); else ``(401, why)``, and the connection must then be closed."""
        if self._server_nonce is None or self._client_nonce is None:
            return None, (401, "login before challenge")
        expected = client_proof(self._key, self._server_nonce, self._client_nonce)
        if not matches(expected, unb64(body.get("proof"))):
            return None, (401, "wrong auth key")
        return {"serverProof": b64(server_proof(self._key, self._client_nonce,
                                                self._server_nonce))}, None


def read_key_file(path: Union[str, os.PathLike]) -> bytes:
    """A key file's bytes without one trailing newline, LF or CRLF (editors add one), as the
    CLI reads it (AuthKeys.read). An empty key raises ``OSError`` naming the file, as a missing
    or unreadable one does: the server cannot hold an empty key, so the login could only fail
    with a message that hides the cause."""
    with open(path, "rb") as f:
        # Bounded as AuthKeys.read is: /dev/zero given by mistake would fill the memory.
        data = f.read(MAX_KEY_BYTES + 1)
    if len(data) > MAX_KEY_BYTES:
        raise OSError(f"auth key file {os.fspath(path)} is larger than {MAX_KEY_BYTES} bytes: not a key file")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise OSError(f"auth key file {os.fspath(path)} is empty")
    return data


def orch_home() -> Path:
    """``$ORCH_HOME``, default ``~/.orch`` (also when it is blank, as for the CLI)."""
    home = os.environ.get("ORCH_HOME")
    return Path(home) if home and home.strip() else Path.home() / ".orch"


def authkey_argument(authkey: Union[bytes, bytearray, str]) -> bytes:
    """An ``authkey=`` argument as bytes (str is UTF-8 encoded).

    Anything else raises ``TypeError``: ``bytes(5)`` would quietly make five zero bytes. An
    empty key raises ``ValueError``, since no server can hold one.
    """
    if isinstance(authkey, str):
        key = authkey.encode("utf-8")
    elif isinstance(authkey, (bytes, bytearray)):
        key = bytes(authkey)
    else:
        raise TypeError("authkey must be bytes, bytearray or str, not %s" % type(authkey).__name__)
    if not key:
        raise ValueError("authkey is empty")
    return key


def resolve_authkey(authkey: Union[bytes, bytearray, str, None]) -> bytes:
    """The key to log in with, resolved as the CLI does (AuthKeys.find).

    Order: the ``authkey`` argument (see :func:`authkey_argument`); ``$ORCH_AUTHKEY`` (UTF-8)
    unless empty; the file ``$ORCH_AUTHKEY_FILE`` unless empty; the file ``$ORCH_HOME/authkey``
    (default ``~/.orch/authkey``) if it exists. Key files are read by :func:`read_key_file`.
    Raises ``FileNotFoundError`` when none is available.
    """
    if authkey is not None:
        return authkey_argument(authkey)
    env = os.environ.get("ORCH_AUTHKEY")
    if env:  # empty counts as unset, as for the CLI
        return env.encode("utf-8")
    key_file = os.environ.get("ORCH_AUTHKEY_FILE")
    if key_file:
        return read_key_file(key_file)
    default = orch_home() / "authkey"
    # exists(), not is_file(): a directory there is reported as unreadable, as the CLI does,
    # rather than as no key at all.
    if default.exists():
        return read_key_file(default)
    raise FileNotFoundError(
        f"no orch authkey: pass authkey=, set ORCH_AUTHKEY or ORCH_AUTHKEY_FILE, or create {default}")


def parse_address(text: str) -> Tuple[str, int]:
    """Parses ``"host:port"`` (``"[::1]:55555"`` for IPv6)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"address must be HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def resolve_address(address: Union[Tuple[str, int], str, None]) -> Tuple[str, int]:
    """The server address: the argument, else ``$ORCH_ADDRESS``, else 127.0.0.1:55555."""
    if address is None:
        env = os.environ.get("ORCH_ADDRESS")
        return parse_address(env) if env else DEFAULT_ADDRESS
    if isinstance(address, str):
        return parse_address(address)
    host, port = address
    return str(host), int(port)
