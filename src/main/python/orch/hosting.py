"""Hosting types in this process for every client of the server (PROTOCOL.md §7).

The worker registers ``orch.host.SESSION``, announces each type with the manager ``host``
operation, then builds objects and runs their methods when the server forwards ``create`` and
method calls.

Threads. Calls reach a method two ways, and run the same code (:meth:`Host.execute`):

- Through the server: constructors and methods run on the server connection's reader thread
  that received them (``orch-reader-…``), so the reply goes out with no thread wake-up in its
  path. A method that waits for a reply (it calls a remote object) or runs longer than a few
  milliseconds loses the reader role to another thread (see :mod:`.connection`), so it cannot
  stall other calls to this process or deadlock it.
- Directly: unless ``ORCH_DIRECT=off`` (or the server connection uses TLS and there is no
  ``ORCH_DIRECT_CERT``/``ORCH_DIRECT_KEY``), the first :meth:`Host.start` also listens for
  direct connections (see :mod:`.direct`; over TLS with that certificate) and offers the
  address with every ``host`` request, so clients send calls here without the server in
  between. Each direct connection is served the same way, by ``orch-direct-…`` threads: a call
  runs on the thread that read it, and one that runs long gets another thread to read behind it.
  The listener and its connections close with the server connection.

Inside a method, :func:`caller_session` gives the calling client's session.

References (PROTOCOL.md §5, §7). A call or ``create`` whose arguments hold ``{"orch.ref": ID}``
(a client's proxy) gets, in its place, a proxy of that object, made by this process's Manager
with a lookup by id: this session's own reference, which the proxy releases when it is
collected, so an object that keeps it keeps the referent alive. Only bodies that
:func:`._framing.decode_payload` marked as :class:`._framing.BodyWithRefs` (their text holds
``"orch.ref"``) are walked. The lookup is a request on the server connection made from the
thread that runs the call, which the reader role does not stall: a handler that waits for a
reply hands the role on (see :mod:`.connection`), and a direct call runs on its own thread.
"""
from __future__ import annotations

import inspect
import logging
import threading
from typing import (TYPE_CHECKING, Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional,
                    Sequence, Tuple)

from . import _framing, direct
from ._framing import REF_KEY, BodyWithRefs, ProxyValue, replace_refs
from .connection import Connection
from .errors import error_body, exception_text
from .proxy import BaseProxy, wire_slice

if TYPE_CHECKING:
    from .manager import Manager

log = logging.getLogger("orch")

#: Per thread: the session of the caller whose call runs on this thread (see caller_session).
_local = threading.local()
#: Methods whose first argument may be a slice.
_SLICED = frozenset(("__getitem__", "__setitem__", "__delitem__"))


def caller_session() -> Optional[str]:
    """In a hosted method: the calling client's session at the server, or None (outside a
    call, or a direct caller that did not say). The same for calls routed through the server
    and direct calls."""
    return getattr(_local, "session", None)


class TypeSpec(NamedTuple):
    """A registered typeid: how to build it, what it exposes, which proxy class to use."""

    typeid: str
    factory: Optional[Callable[..., Any]]
    exposed: Optional[Tuple[str, ...]]
    proxytype: Optional[type]
    #: A factory that is not a class, registered without ``exposed``: each object's methods are
    #: its own public ones, as BaseManager's AutoProxy finds them per object.
    per_object: bool = False


#: What the worker answers for every object it hosts, whatever its ``exposed`` says, as
#: multiprocessing's server does (``Server.fallback_mapping``): a proxy's ``str()`` is the
#: object's ``repr()`` there, and here too. Announced with the exposed methods, because the
#: server lets through only calls of exposed methods (PROTOCOL.md §5, §7).
FALLBACK_METHODS = ("__repr__", "__str__")


def with_fallback(exposed: Sequence[str]) -> Tuple[str, ...]:
    """``exposed`` and then :data:`FALLBACK_METHODS` it does not name already."""
    exposed = tuple(exposed)
    return exposed + tuple(m for m in FALLBACK_METHODS if m not in exposed)


def public_methods(cls: Any) -> Tuple[str, ...]:
    """The callable attributes of ``cls`` (a class or an object) not starting with ``_``
    (Python's default exposed)."""
    return tuple(name for name in dir(cls)
                 if not name.startswith("_") and callable(getattr(cls, name, None)))


def make_spec(typeid: str, factory: Optional[Callable[..., Any]],
              exposed: Optional[Sequence[str]], proxytype: Optional[type]) -> TypeSpec:
    """Validates a registration; ``exposed`` defaults to the ``_exposed_`` of ``proxytype``
    (as in BaseManager), else the public methods of the class. Raises TypeError for arguments
    of the wrong kind, so a mistake fails at ``register`` rather than at the first call."""
    if not isinstance(typeid, str) or not typeid:
        raise TypeError(f"register(): typeid must be a non-empty str, not {typeid!r}")
    if factory is not None and not callable(factory):
        raise TypeError(f"register({typeid!r}, ...): callable must be a class or a function, "
                        f"not {type(factory).__name__}")
    if proxytype is not None and not (isinstance(proxytype, type)
                                      and issubclass(proxytype, BaseProxy)):
        raise TypeError(f"register({typeid!r}, ...): proxytype must be a subclass of "
                        f"orch.BaseProxy, not {proxytype!r}")
    if exposed is None and proxytype is not None:
        exposed = getattr(proxytype, "_exposed_", None)
    if exposed is not None and (isinstance(exposed, (str, bytes))
                                or not isinstance(exposed, (list, tuple, set, frozenset))
                                or not all(isinstance(n, str) for n in exposed)):
        # A str is a sequence of one-letter names; BaseManager would take it and then match
        # method names as substrings.
        raise TypeError(f"register({typeid!r}, ...): exposed must be a list of method names, "
                        f"not {exposed!r}")
    if factory is not None and exposed is None:
        cls = factory if inspect.isclass(factory) else _returned_class(factory)
        if cls is None:
            # Only an object will tell: each one's methods go with its create answer (§7).
            return TypeSpec(typeid, factory, (), proxytype, per_object=True)
        exposed = public_methods(cls)
    return TypeSpec(typeid, factory, tuple(exposed) if exposed is not None else None, proxytype)


def _returned_class(fn: Callable[..., Any]) -> Optional[type]:
    try:
        ret = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return None
    return ret if inspect.isclass(ret) and ret is not inspect.Signature.empty else None


class Host:
    """Serves the registered types of one connection; ``manager``, the Manager that owns it,
    makes the proxies that stand for references in the arguments (None: references are
    refused with 400)."""

    def __init__(self, conn: Connection, manager: Optional["Manager"] = None) -> None:
        self._conn = conn
        self._manager = manager
        self._specs: Dict[str, TypeSpec] = {}
        #: Hosted objects by id: the object, its spec and the set of methods it exposes.
        self._objects: Dict[str, Tuple[Any, TypeSpec, FrozenSet[str]]] = {}
        self._started = False
        self._lock = threading.Lock()
        self._listener: Optional[direct.Listener] = None

    @property
    def host_address(self) -> str:
        return "orch.host.%s" % self._conn.session

    @property
    def direct_address(self) -> Optional[str]:
        """The ``HOST:PORT`` where this process takes direct calls, or None."""
        listener = self._listener
        return listener.address if listener is not None else None

    @property
    def direct_tls(self) -> bool:
        """True when the direct port speaks TLS (offered as ``directTls``)."""
        listener = self._listener
        return listener is not None and listener.tls

    def start(self) -> None:
        """Starts the direct-call listener and registers ``orch.host.SESSION`` (once).

        Raises ValueError or OSError, with nothing started, when ``ORCH_DIRECT_CERT`` and
        ``ORCH_DIRECT_KEY`` are not both set or cannot be loaded."""
        with self._lock:  # held throughout: a concurrent add() must not send `host` before this
            if self._started:
                return
            listener = direct.start_listener(self, self._conn)
            self._listener = listener
            self._started = True
            if listener is not None:
                # Direct connections end with the session: clients then see HostGone, as from
                # the server, and nobody can reach objects the server no longer knows.
                self._conn.on_close(listener.close)
            self._conn.add_handler(self.host_address, self._on_host_message)
            # Frames are handled in order, so the registration is in place before `host` ops.
            self._conn.send({"type": "register", "address": self.host_address})

    def close(self) -> None:
        """Stops taking direct calls (the server connection's end does it too)."""
        listener = self._listener
        if listener is not None:
            listener.close()

    def add(self, spec: TypeSpec) -> None:
        """Announces ``spec`` to the server; objects of it are built here from now on."""
        if spec.factory is None or spec.exposed is None:
            raise ValueError(f"typeid {spec.typeid!r} has no callable to host")
        self.start()
        self._specs[spec.typeid] = spec
        body: Dict[str, Any] = {"op": "host", "typeid": spec.typeid,
                                "exposed": list(with_fallback(spec.exposed))}
        listener = self._listener
        if listener is not None:
            body["direct"] = listener.address
            if listener.tls:
                body["directTls"] = True
        self._conn.request("orch.manager", body)

    @property
    def typeids(self) -> List[str]:
        return list(self._specs)

    # -- messages from the server (reader thread) ---------------------------------------------

    def _on_host_message(self, frame: Dict[str, Any]) -> None:
        body = frame.get("body")
        op = body.get("op") if isinstance(body, dict) else None
        if op == "create":
            self._create(frame, body)
        elif op == "release":
            oid = str(body.get("id"))
            self._objects.pop(oid, None)
            self._conn.remove_handler("orch.obj.%s" % oid)
        else:
            log.warning("orch: unknown host operation %r", op)

    def _create(self, frame: Dict[str, Any], body: Dict[str, Any]) -> None:
        reply_to = frame.get("replyAddress")
        oid = str(body.get("id"))
        spec = self._specs.get(body.get("typeid"))
        try:
            if spec is None:
                raise _Failure(404, "NotFound", f"typeid {body.get('typeid')!r} is not hosted here")
            args, kwargs = body.get("args") or (), body.get("kwargs") or {}
            if type(body) is BodyWithRefs:
                args, kwargs = self._with_proxies(args, kwargs)
            obj = spec.factory(*args, **kwargs)
            exposed = with_fallback(public_methods(obj) if spec.per_object
                                    else (spec.exposed or ()))
            answer: Dict[str, Any] = {"id": body.get("id")}
            if spec.per_object:
                answer["exposed"] = list(exposed)
            # Before the object is kept: an answer that cannot be sent fails the create.
            data = self._encode_answer(reply_to, _framing.encode_json(answer))
        except BaseException as e:  # the creator gets the error, this worker stays up
            self._send_reply(self._failure_answer(reply_to, e))
            return
        address = "orch.obj.%s" % oid
        self._objects[oid] = (obj, spec, frozenset(exposed))
        self._conn.add_handler(address, self._on_call)
        try:
            self._conn.send({"type": "register", "address": address})
        except ConnectionError:
            return
        self._send_reply(data)

    def _on_call(self, frame: Dict[str, Any]) -> None:
        """A call the server forwards; the reply is a ``send`` to its ``replyAddress``."""
        body = frame.get("body") or {}
        reply_to = frame.get("replyAddress")
        if not reply_to or not isinstance(reply_to, str):
            return
        try:
            data = _framing.encode_reply(
                reply_to, self.execute(frame.get("address", ""), body, body.get("session")))
            self.check_reply_size(len(data) - _framing.HEADER_SIZE)
        except BaseException as e:
            data = self._failure_answer(reply_to, e)
        self._send_reply(data)

    def execute(self, address: str, body: Dict[str, Any], session: Optional[str]) -> bytes:
        """Runs the call ``body`` (PROTOCOL.md §5) on the object at ``address`` for the caller
        ``session``; returns the encoded ``{"result":…}`` body, or raises (see
        :func:`failure_body`). Shared by the server-routed path and direct connections.
        """
        method = body.get("method")
        entry = self._objects.get(address[9:])  # after "orch.obj."
        if entry is None:
            raise _Failure(404, "NotFound", f"no object at {address}")
        obj, spec, exposed = entry
        if type(method) is not str or method not in exposed:
            code, name = (403, "Forbidden") if str(method).startswith("_") else (404, "NotFound")
            raise _Failure(code, name, f"method {method!r} of {spec.typeid!r} is not exposed")
        args = body.get("args")
        kwargs = body.get("kwargs")
        if type(args) is not list:
            args = args or ()
            if not isinstance(args, (list, tuple)):
                raise _bad_args()
        if kwargs is not None and not isinstance(kwargs, dict):
            raise _bad_args()
        if method in _SLICED and args:
            # Proxies send slices as {"start","stop","step"} (PROTOCOL.md §5), and no other
            # mapping of that shape: the object takes them as the slices they stand for.
            args = [wire_slice(args[0])] + list(args[1:])
        if type(body) is BodyWithRefs:
            args, kwargs = self._with_proxies(args, kwargs)
        local = _local
        local.session = session
        try:
            result = getattr(obj, method)(*args, **kwargs) if kwargs else getattr(obj, method)(*args)
        finally:
            local.session = None
        if method == "copy" and isinstance(obj, dict) and isinstance(result, dict) \
                and not all(type(k) is str for k in result):
            # As the server answers a shared dict's copy (DictProxy.copy takes either): a JSON
            # object would turn the keys 1 and None into "1" and "null".
            result = [[k, v] for k, v in result.items()]
        # Encoded here so a result that is not JSON fails as a TypeError for the caller.
        try:
            return b'{"result":%s}' % _framing.encode_json(result)
        except ProxyValue as e:
            raise TypeError(
                "the result of %s.%s() holds a proxy (%s): returning a shared object from a "
                "hosted method is not supported; store it in a shared object the caller can "
                "read (a dict or Queue passed as an argument), or create it with a name and "
                "return the name for Manager.lookup()"
                % (spec.typeid, method, type(e.proxy).__name__)) from None

    def _with_proxies(self, args: Any, kwargs: Any) -> Tuple[Any, Any]:
        """``args`` and ``kwargs`` (decoded from a body that mentions ``"orch.ref"``) with each
        reference at any depth replaced, in place, by a proxy of its object (PROTOCOL.md §7):
        one lookup by id per object, shared by its references in this call. Raises the lookup's
        failure (404 for an object gone), or 400 for an ``"orch.ref"`` that is no object id."""
        manager = self._manager
        made: Dict[str, BaseProxy] = {}

        def proxy_for(ref: Dict[str, Any]) -> Any:
            oid = ref[REF_KEY]
            if type(oid) is not str or not oid:
                # As the server refuses it for its own objects (PROTOCOL.md §5).
                raise _Failure(400, "BadRequest", "'%s' is reserved for references: its value "
                                                  "must be an object id" % REF_KEY)
            proxy = made.get(oid)
            if proxy is None:
                if manager is None:
                    raise _Failure(400, "BadRequest", "this worker takes no references")
                proxy = made[oid] = manager.lookup(id=oid)
            return proxy

        if type(args) is not list:
            args = list(args)
        # kwargs for its values, as the server reads them (not it, as a whole)
        replace_refs([args, kwargs] if kwargs else [args], proxy_for)
        return args, kwargs

    def _encode_answer(self, reply_to: Any, body_json: bytes) -> Optional[bytes]:
        """The frame answering ``reply_to`` (None without one); raises as
        :meth:`check_reply_size` does."""
        if not reply_to or not isinstance(reply_to, str):
            return None
        data = _framing.encode_reply(reply_to, body_json)
        self.check_reply_size(len(data) - _framing.HEADER_SIZE)
        return data

    def _failure_answer(self, reply_to: Any, exc: BaseException) -> Optional[bytes]:
        """The frame answering ``reply_to`` with the failure ``exc`` (None without a reply
        address). Never raises: see :func:`failure_body`."""
        if not reply_to or not isinstance(reply_to, str):
            return None
        try:
            return _framing.encode_reply(
                reply_to, _framing.encode_json(failure_body(exc, self._conn.max_frame)))
        except Exception:  # only a reply address that is not text could get here
            log.exception("orch: cannot answer %r", reply_to)
            return None

    def _send_reply(self, data: Optional[bytes]) -> None:
        if data is None:
            return
        try:
            self._conn.send_encoded(data)
        except ConnectionError:
            pass  # the caller learns from the server that this host is gone

    @property
    def max_frame(self) -> float:
        """The largest frame the server takes (infinite when it did not say): no answer from
        here, by either route, may be longer."""
        return self._conn.max_frame

    def check_reply_size(self, size: int) -> None:
        """Raises when an answer of ``size`` bytes (a frame's payload) is more than the server
        takes (its ``maxFrame``): sent, it would make the server close this connection, and
        every object hosted here would be gone. Direct answers are held to the same limit, so
        a call fails or not whichever route it takes."""
        limit = self._conn.max_frame
        if size > limit:
            raise _Failure(500, "ValueError",
                           "the result is %d bytes; the orch server takes frames of at most %d "
                           "(server --max-frame)" % (size, limit))


def _bad_args() -> "_Failure":
    # As the server answers such a body for its own objects (PROTOCOL.md §5): a string would
    # otherwise be spread into characters, a dict into its keys.
    return _Failure(400, "BadRequest", "'args' must be an array and 'kwargs' an object")


class _Failure(Exception):
    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(message)
        self.code, self.name = code, name


#: Bytes of a frame kept for all of an error answer but its message: the frame's fields, the
#: reply address, the name (cut to _MAX_NAME characters, written twice once the server prefixes
#: the message with it) and the note saying the message was cut.
_ERROR_ROOM = 4096
_MAX_NAME = 256


def failure_body(exc: BaseException, limit: float = float("inf")) -> Dict[str, Any]:
    """The ``{"error":{"code","name","message"}}`` answer for an exception a call raised.

    Never raises, and the body always encodes as UTF-8 JSON: every call must get an answer,
    whatever it raised (an exception whose str() raises, a message with a lone surrogate…).
    A message that would make the answer's frame longer than ``limit`` bytes (the server's
    ``maxFrame``: a longer frame would end this worker's session) is cut to fit, and says so.
    """
    try:
        text = exception_text(exc)
        if isinstance(exc, _Failure):
            error = {"code": exc.code, "name": exc.name, "message": text}
        elif isinstance(exc, (TypeError, ValueError)) and "JSON serializable" in text:
            error = {"code": 500, "name": "TypeError",
                     "message": f"result is not JSON-serializable: {text}"}
        else:
            error = error_body(exc)["error"]
        name = error["name"][:_MAX_NAME]
        error["name"] = name
        error["message"] = _fit(error["message"], limit - _ERROR_ROOM - len(name), limit)
        _framing.encode_json(error)  # the proof it encodes, before anyone relies on it
        return {"error": error}
    except Exception:  # a last resort: nothing above should fail, and nothing here can
        log.exception("orch: cannot report a hosted call's failure")
        return {"error": {"code": 500, "name": "RuntimeError",
                          "message": "the hosted call failed, and its error could not be reported"
                                     " (see the worker's log)"}}


def _fit(message: str, budget: float, limit: float) -> str:
    """``message``, cut so that its JSON encoding takes at most ``budget`` bytes, with a note
    saying so (``limit``: the frame size that forces it)."""
    size = len(message)  # characters: a lower bound of its encoded size
    if size <= budget // 6:  # even a character written \uXXXX takes at most 6 bytes
        return message
    encoded = len(_framing.encode_json(message)) - 2
    if encoded <= budget:
        return message
    note = ("... [cut to fit: the message was %d bytes; the orch server takes frames of at most "
            "%d (server --max-frame)]" % (encoded, limit))
    keep = int(budget) - len(note)
    # The longest prefix whose encoding fits: each try encodes at most the prefix.
    low, high = 0, min(size, max(keep, 0))
    if len(_framing.encode_json(message[:high])) - 2 <= keep:
        low = high  # the usual case: one byte a character
    while low < high:
        middle = (low + high + 1) // 2
        if len(_framing.encode_json(message[:middle])) - 2 <= keep:
            low = middle
        else:
            high = middle - 1
    return message[:low] + note
