"""Exceptions raised by the orch client, and the mapping of wire errors onto Python's.

A failed request comes back as an ``err`` frame with a numeric ``failureCode``, an error ``name``
and a ``message`` of the form ``"<name>: <detail>"`` (PROTOCOL.md §2). When the name is one of
Python's (``KeyError``, ``queue.Empty``…) the client raises an exception that is both that Python
class and :class:`RemoteError`, so ``except KeyError`` and ``except orch.RemoteError`` both work.
"""
from __future__ import annotations

import ast
import queue
import socket
import threading
from typing import Any, Dict, Optional, Type


class OrchError(Exception):
    """Base class of the exceptions defined by orch."""


class RemoteError(OrchError):
    """A request failed on the server or in the worker that hosts the object.

    Attributes:
        code: the protocol failure code (404, 500…).
        name: the error name sent by the server (``NotFound``, ``KeyError``…).
        message: the full message, ``"<name>: <detail>"``.
        detail: the message without the ``"<name>: "`` prefix.
    """

    code: int = 500
    name: str = "RemoteError"
    message: str = ""
    detail: str = ""

    def __init__(self, code: int = 500, name: str = "RemoteError", message: str = "") -> None:
        super().__init__(message or name)
        self.code, self.name, self.message = code, name, message
        self.detail = _detail(name, message)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message or self.name}"


class AuthenticationError(OrchError):
    """The mutual HMAC login failed: client and server do not hold the same authkey."""


class ConnectTimeoutError(ConnectionError, socket.timeout):
    """The TCP connect to the server, or the TLS handshake or login after it, took longer than
    ``connect_timeout``; a ``TimeoutError`` (``socket.timeout`` before Python 3.10)."""


class HostLookupError(ConnectionError, socket.gaierror):
    """The server's host name did not resolve (``socket.gaierror``)."""


def connect_error(e: OSError, what: str) -> OSError:
    """The error for a failed TCP connect: a ``ConnectionError`` (as documented for connect())
    that is also of ``e``'s class, with ``e``'s errno, saying what failed and why."""
    return connection_error(e, "%s: %s" % (what, e.strerror or e))


#: ConnectionError subclasses that are also another class, made once per class.
_ALSO_CONNECTION: Dict[type, type] = {}


def _also_connection(cls: type) -> type:
    """A class that is both ``ConnectionError`` and ``cls`` (an OSError or RemoteError class
    that is not a ConnectionError), or ``ConnectionError`` when Python cannot make one."""
    made = _ALSO_CONNECTION.get(cls)
    if made is None:
        try:
            made = type(cls.__name__, (ConnectionError, cls), {
                "__module__": __name__,
                "__doc__": "A connection that could not be opened, for a %s; also a "
                           "ConnectionError." % cls.__name__})
        except TypeError:  # a base whose layout cannot be combined with OSError's
            made = ConnectionError
        _ALSO_CONNECTION[cls] = made
    return made


def connection_error(e: BaseException, text: str) -> OSError:
    """The ``ConnectionError`` saying ``text`` for a connection that could not be opened or
    logged in because of ``e``: one promise covers every failure (connect() raises
    ConnectionError), and the cause's class is kept where it is one a caller may catch (an
    OSError such as ``TimeoutError`` or ``ssl.SSLCertVerificationError``, or a RemoteError), with
    its errno and attributes. Any other cause (a private class, a ValueError) gives a plain
    ConnectionError; either way ``e`` is the ``__cause__`` to set."""
    if isinstance(e, socket.gaierror):
        cls: type = HostLookupError
    elif isinstance(e, (TimeoutError, socket.timeout)):
        cls = ConnectTimeoutError
    elif isinstance(e, ConnectionError):
        cls = type(e)
    elif isinstance(e, (OSError, RemoteError)):
        cls = _also_connection(type(e))
    else:
        cls = ConnectionError
    errno = getattr(e, "errno", None) if isinstance(e, OSError) else None
    try:
        err = cls(errno, text) if errno is not None else cls(text)
    except Exception:  # a subclass with a constructor of its own
        cls = ConnectionError
        err = ConnectionError(errno, text) if errno is not None else ConnectionError(text)
    if cls is not ConnectionError:
        # What the cause's class tells its catchers: ssl's reason and verify_message, a
        # RemoteError's code and name...
        for key, value in getattr(e, "__dict__", {}).items():
            try:
                setattr(err, key, value)
            except (AttributeError, TypeError):
                pass
    return err


# Python exception classes a remote error name maps onto (PROTOCOL.md §2 uses Python's vocabulary).
_PYTHON_ERRORS: Dict[str, Type[BaseException]] = {
    "KeyError": KeyError,
    "IndexError": IndexError,
    "ValueError": ValueError,
    "TypeError": TypeError,
    "AttributeError": AttributeError,
    "RuntimeError": RuntimeError,
    "LookupError": LookupError,
    "ZeroDivisionError": ZeroDivisionError,
    "ArithmeticError": ArithmeticError,
    "OverflowError": OverflowError,
    "NotImplementedError": NotImplementedError,
    "AssertionError": AssertionError,
    "StopIteration": StopIteration,
    "Empty": queue.Empty,
    "Full": queue.Full,
    "BrokenBarrierError": threading.BrokenBarrierError,
}
_MIXED: Dict[str, type] = {}


def _detail(name: str, message: str) -> str:
    prefix = name + ": "
    return message[len(prefix):] if message.startswith(prefix) else message


def _mixed_class(name: str) -> Optional[type]:
    """``KeyError`` + ``RemoteError`` in one class, built once per name."""
    base = _PYTHON_ERRORS.get(name)
    if base is None:
        return None
    cls = _MIXED.get(name)
    if cls is None:
        cls = type(name, (base, RemoteError), {
            "__module__": "orch.errors",
            "__doc__": f"A remote {name}; also an orch.RemoteError.",
            # The Python base class formats the message (KeyError quotes its key, etc.).
            "__str__": base.__str__,
            "__init__": base.__init__,
            # Made here, these classes are no module attributes pickle could find by name.
            "__reduce__": _reduce_mixed,
        })
        _MIXED[name] = cls
    return cls


def _reduce_mixed(exc: BaseException) -> Any:
    state = dict(exc.__dict__)
    # AttributeError keeps 'name' in a slot of its own (Python 3.10+), not in __dict__.
    state.update((k, getattr(exc, k, None)) for k in ("code", "name", "message", "detail"))
    return _unpickle_mixed, (type(exc).__name__, exc.args, state)


def _unpickle_mixed(name: str, args: tuple, state: Dict[str, Any]) -> BaseException:
    """A pickled remote error (say from a ProcessPoolExecutor task) as it was."""
    cls = _mixed_class(name)
    if cls is None:
        return RemoteError(state.get("code", 500), name, state.get("message", ""))
    exc = cls(*args)
    for key, value in state.items():
        setattr(exc, key, value)
    return exc


def remote_error(code: int, name: Optional[str], message: Optional[str]) -> BaseException:
    """Builds the exception for a wire failure ``(code, name, message)``."""
    name = name or "RemoteError"
    message = message or name
    cls = _mixed_class(name) if code == 500 else None
    if cls is None:
        return RemoteError(code, name, message)
    detail = _detail(name, message)
    arg: Any = detail
    if name == "KeyError":
        # "KeyError: 'x'" carries the repr of the key; give back the key itself, as Python does.
        try:
            arg = ast.literal_eval(detail)
        except (ValueError, SyntaxError):
            pass
    exc = cls(arg) if detail else cls()
    exc.code, exc.name, exc.message, exc.detail = code, name, message, detail
    return exc


def bad_reply(method: str, body: Any) -> RemoteError:
    """The error for a call answered with a body that is not ``{"result": …}`` (PROTOCOL.md
    §5): 502 ``BadReply``, as the server reports a worker that
    answers so. The client checks this itself because on a direct connection (§7) it reads
    the worker's answers without the server in between."""
    if not isinstance(body, dict):
        what = "a JSON %s, not an object" % _json_kind(body)
    else:
        keys = ", ".join(sorted(map(repr, body))[:5]) or "no keys"
        what = "an object without 'result' (keys: %s)" % keys
    return RemoteError(502, "BadReply", "BadReply: the reply to %s() was %s" % (method, what))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def from_err_frame(frame: Dict[str, Any], from_worker: bool = False) -> BaseException:
    """The exception for an ``err`` frame. ``from_worker``: the frame is a hosting worker's
    answer on a direct connection (PROTOCOL.md §7), whose code must be a method's failure
    (400-599, not 401 or 413), as the server checks it on the other route: else 502."""
    code = frame.get("failureCode")
    if from_worker and not (type(code) is int and 400 <= code <= 599 and code not in (401, 413)):
        return RemoteError(502, "BadReply", "BadReply: the worker answered with error code %s, "
                           "which is not a method's failure (400-599, not 401 or 413)"
                           % (repr(code)[:40],))
    name, message = frame.get("name"), frame.get("message")
    # A peer's malformed frame must fail this call, not the reader that maps it.
    return remote_error(code if type(code) is int else 500,
                        name if isinstance(name, str) else None,
                        message if isinstance(message, str) else None)


def error_body(exc: BaseException) -> Dict[str, Any]:
    """The ``{"error": …}`` reply body a worker sends for an exception (PROTOCOL.md §7).

    Never raises, and the body always encodes as UTF-8 JSON: a worker must answer every call,
    and an exception is not always easy to put in words (see :func:`safe_text`)."""
    if isinstance(exc, RemoteError):
        code, name, message = exc.code, exc.name, exc.detail
        if type(code) is not int:
            code = 500
        if not isinstance(name, str):
            name = type(exc).__name__
        message = safe_text(message) if isinstance(message, str) else exception_text(exc)
    else:
        code, name, message = 500, type(exc).__name__, exception_text(exc) + _causes(exc)
    return {"error": {"code": code, "name": safe_text(name), "message": message}}


#: How many causes a message names at most: enough for a wrapped wrapper, bounded for a loop.
_MAX_CAUSES = 4


def _causes(exc: BaseException) -> str:
    """What ``exc`` was raised from, as text to follow its message (``"; caused by OSError:
    disk full"``, or ``"; while handling KeyError: 'k'"`` for an exception raised in an
    ``except`` block): the caller sees no traceback, and the cause is often the only part that
    says what went wrong."""
    parts, seen = [], {id(exc)}
    cur = exc
    while len(parts) < _MAX_CAUSES:
        if cur.__cause__ is not None:
            nxt, how = cur.__cause__, "caused by"
        elif cur.__context__ is not None and not cur.__suppress_context__:
            nxt, how = cur.__context__, "while handling"
        else:
            break
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        text = exception_text(nxt)
        parts.append("%s %s%s" % (how, safe_text(type(nxt).__name__), ": " + text if text else ""))
        cur = nxt
    return "".join("; " + p for p in parts)


def exception_text(exc: BaseException) -> str:
    """``str(exc)`` made safe to send: its repr when str() raises (a ``__str__`` that reads an
    attribute never set…), a fixed text when that raises too; see :func:`safe_text`."""
    try:
        text = str(exc)
    except Exception:
        try:
            text = repr(exc)
        except Exception:
            text = "<exception str() failed>"
    return safe_text(text)


def safe_text(text: str) -> str:
    """``text``, with what UTF-8 cannot encode (lone surrogates, as ``os.fsdecode`` makes of
    undecodable file names) written as backslash escapes (``\\udcff``), so it can be sent."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    except Exception:  # not a str after all (a subclass whose encode misbehaves)
        return "<text not printable>"


__all__ = ["OrchError", "RemoteError", "AuthenticationError", "ConnectTimeoutError",
           "HostLookupError", "connection_error", "remote_error", "from_err_frame", "error_body",
           "bad_reply"]
