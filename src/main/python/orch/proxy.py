"""Proxies: local stand-ins for shared objects, in the manner of ``multiprocessing.managers``.

A proxy holds an object description (PROTOCOL.md §4) and turns attribute calls into method
calls on the object's address. Its class is built per exposed-method list, like Python's
``AutoProxy``, so ``len(p)``, ``p[k]`` and ``k in p`` work exactly when the object exposes
``__len__``, ``__getitem__`` and ``__contains__``.

Iteration: a dict proxy iterates over a snapshot of its keys (one ``keys()`` call), a list proxy
over a snapshot of its items (one ``l[:]`` call). Another type that exposes ``keys`` iterates
over its keys; one that exposes ``__len__`` and ``__getitem__`` is iterated index by index, one
round trip per item, until ``IndexError`` (Python's sequence protocol). Nothing else iterates.
"""
from __future__ import annotations

import math
import operator
import os
import threading
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Type

from . import connection as _connection_mod
from ._framing import BodyWithRefs, ProxyValue, encode_call, encode_json_refs, send_prefix
from .direct import host_gone
from .errors import RemoteError, bad_reply

if TYPE_CHECKING:
    from .manager import Manager

# Protocol methods forwarded when exposed. __getattr__/__setattr__ stay local on purpose:
# forwarding them would make every attribute probe a round trip (NamespaceProxy does it on
# purpose, for public names only).
_FORWARDED_DUNDERS = ("__len__", "__getitem__", "__setitem__", "__delitem__", "__contains__",
                      "__call__", "__iadd__", "__imul__", "__add__", "__mul__", "__lt__", "__le__",
                      "__gt__", "__ge__", "__reversed__")


class BaseProxy:
    """Base class of all proxies.

    Attributes (read-only by convention): ``_id``, ``_typeid``, ``_name`` (None for anonymous
    objects), ``_address_`` (``orch.obj.ID``) and ``_exposed_`` (the exposed method names).
    """

    #: A method returning a snapshot of the whole value, used by str(); None if there is none.
    _snapshot_method: Optional[str] = None

    def __init__(self, manager: "Manager", description: Dict[str, Any], owned: bool) -> None:
        # object.__setattr__: NamespaceProxy forwards attribute assignment.
        setattr_ = object.__setattr__
        setattr_(self, "_manager", manager)
        setattr_(self, "_id", str(description["id"]))
        setattr_(self, "_typeid", description.get("typeid"))
        setattr_(self, "_name", description.get("name"))
        setattr_(self, "_address_", description.get("address") or "orch.obj.%s" % description["id"])
        setattr_(self, "_exposed_", tuple(description.get("exposed") or ()))
        setattr_(self, "_prefix", send_prefix(self._address_))
        # A worker's object (PROTOCOL.md §4): the server passes its calls' arguments and its
        # results as they are (§5), so a reference in a result is none the server gave.
        host = description.get("host")
        setattr_(self, "_hosted", host is not None and host != "server")
        conn = manager._connection()
        setattr_(self, "_conn", conn)
        # Calls go straight to the hosting worker when it offers that (PROTOCOL.md §7).
        setattr_(self, "_route", manager._direct_route(description))
        finalizer = None
        if owned:
            # Like BaseProxy's decref: the session's reference goes when this proxy does. The
            # finalizer only queues the release (it may run inside any allocation).
            finalizer = weakref.finalize(self, conn.defer_request, "orch.manager",
                                         {"op": "release", "id": self._id})
            finalizer.atexit = False
        setattr_(self, "_finalizer", finalizer)

    def _callmethod(self, methodname: str, args: Sequence[Any] = (),
                    kwds: Optional[Dict[str, Any]] = None) -> Any:
        """Calls ``methodname`` on the shared object and returns its result.

        Proxies in the arguments go as references (PROTOCOL.md §5): the server's own objects
        store them, and a Python worker hands its method a proxy of each (§7); a proxy of
        another server raises ``TypeError``. Each reference in the result of a call on one of
        the server's own objects comes back as a proxy. Failures raise the mapped Python
        exception (see :mod:`orch.errors`); a lost connection raises ``ConnectionError``.
        """
        if self._conn.pid != _connection_mod._pid:
            self._adopt()
        # A tuple encodes as a JSON array as it is: no copy.
        if type(args) is not tuple:
            args = list(args)
        if methodname in _INDEXED and args:
            args = _wire_index_args(args)
        try:
            body = encode_call(methodname, args, kwds)
        except ProxyValue:
            # The arguments hold a proxy: encoded again, each proxy as a reference.
            call: Dict[str, Any] = {"method": methodname, "args": args}
            if kwds:
                call["kwargs"] = kwds
            body = encode_json_refs(call, self._manager._wire_ref)
        route = self._route
        if route is None:
            reply = self._conn.request(self._address_, body, None, self._prefix)
        else:
            conn = route.conn
            if conn is None or conn.closed:
                conn = route.connection()
            if conn is None:  # the worker cannot be reached directly: through the server
                reply = self._conn.request(self._address_, body, None, self._prefix)
            else:
                try:
                    reply = conn.request(self._address_, body, None, self._prefix)
                except ConnectionError as e:
                    if route.closed:  # this Manager closed it: as for its other calls
                        raise
                    # The worker's connection went: as the server says when the host is gone.
                    raise host_gone(route.address, e) from e
        if type(reply) is dict:
            if "result" in reply:
                return reply["result"]
        elif type(reply) is BodyWithRefs:
            return self._reply_with_refs(methodname, reply)
        raise bad_reply(methodname, reply)

    def _reply_with_refs(self, methodname: str, reply: Dict[str, Any]) -> Any:
        """The result of a reply that may hold references, each one made a proxy that owns
        the reference the answer gave this session (PROTOCOL.md §5)."""
        if "result" in reply:
            result = reply["result"]
            return result if self._hosted else self._manager._proxies_in(result)
        raise bad_reply(methodname, reply)

    def _getvalue(self) -> Any:
        """A copy of the shared value, when the type exposes ``_getvalue``."""
        if "_getvalue" in self._exposed_:
            return self._callmethod("_getvalue")
        if self._snapshot_method and self._snapshot_method in self._exposed_:
            return getattr(self, self._snapshot_method)()
        raise AttributeError(f"{self._typeid!r} objects expose no snapshot method")

    def _adopt(self) -> None:
        """Moves a proxy inherited through fork onto a connection of this process (the
        parent's is not this process's to write on), as a lookup by id that gives this
        process's session a reference of its own. The parent's reference stays the parent's:
        this copy never releases it."""
        with _adopt_lock:
            if self._conn.pid == _connection_mod._pid:
                return  # another thread of this process did it
            manager = self._manager._here()
            desc = manager._manager_op("lookup", id=self._id)
            f = self._finalizer
            if f is not None:
                f.detach()
            BaseProxy.__init__(self, manager, desc, desc.get("name") is None)

    def _release(self) -> None:
        """Drops this proxy's reference now instead of at garbage collection."""
        f = self._finalizer
        if f is not None and f.detach() is not None:
            if self._conn.pid != _connection_mod._pid:
                return  # inherited through fork and never used here: the reference is the parent's
            self._conn.request("orch.manager", {"op": "release", "id": self._id})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"{self._typeid!r} object does not expose method {name!r} "
                             f"(exposed: {', '.join(self._exposed_) or 'none'})")

    def __repr__(self) -> str:
        return "<%s object, typeid %r at %#x>" % (type(self).__name__, self._typeid, id(self))

    def __str__(self) -> str:
        """The remote object's ``repr()`` when it answers ``__repr__`` (every hosted object
        does, as with multiprocessing, whose proxies' str() is the referent's repr, and so do
        the server's sync types and Array, with their state), else its
        ``str()`` when it exposes ``__str__``, else str() of a snapshot of the value when the
        type has one (``dict.copy``, ``list[:]``, ``Value.get``), else repr() of the proxy.
        Never raises (it is used in logs and error handlers): as Python's proxies do, it says
        instead that the call failed, the connection lost for instance."""
        try:
            if "__repr__" in self._exposed_:
                return str(self._callmethod("__repr__"))
            if "__str__" in self._exposed_:
                return str(self._callmethod("__str__"))
            return str(self._getvalue())
        except AttributeError:
            return repr(self)
        except Exception:
            return self._str_failed()

    def _str_failed(self) -> str:
        return repr(self)[:-1] + "; '__str__()' failed>"

    def __deepcopy__(self, memo: Dict[int, Any]) -> Any:
        """A copy of the value, as multiprocessing's proxies give (``copy.copy`` gives another
        proxy of the same object)."""
        return self._getvalue()

    def __reduce__(self):
        # As multiprocessing's proxies: rebuilt in the receiving process on a connection of its
        # own (see rebuild_proxy), so one can be passed to a child Process or through a queue.
        return (rebuild_proxy, (self._manager._pickle_settings(), self._id,
                                type(self).__dict__.get("_orch_base") or AutoProxy))


class AutoProxy(BaseProxy):
    """Proxy of a type without a dedicated proxy class (hosted types, sync types)."""


class DictProxy(BaseProxy):
    """Proxy of a shared ``dict``; ``str()`` shows the dict, iteration goes over a key snapshot."""

    _snapshot_method = "copy"
    #: What ``register(..., proxytype=DictProxy)`` exposes by default (the server's dict's methods).
    _exposed_ = ("__contains__", "__delitem__", "__getitem__", "__len__", "__setitem__", "clear",
                 "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update",
                 "values")

    def items(self) -> List[Tuple[Any, Any]]:
        """The ``(key, value)`` pairs, as tuples like ``dict.items()`` gives."""
        return [tuple(p) for p in self._callmethod("items")]  # type: ignore[misc]

    def popitem(self) -> Tuple[Any, Any]:
        """Removes and returns the last ``(key, value)`` pair, a tuple as ``dict.popitem()``
        gives (the wire has no tuples, so the pair comes as a list)."""
        return tuple(self._callmethod("popitem"))  # type: ignore[return-value]

    def copy(self) -> Dict[Any, Any]:
        """A snapshot as a dict (the wire gives ``[key, value]`` pairs for non-string keys)."""
        value = self._callmethod("copy")
        return dict(map(tuple, value)) if isinstance(value, list) else value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._callmethod("keys"))


#: Methods whose first argument may be a slice, and the fields of a slice on the wire.
_INDEXED = ("__getitem__", "__setitem__", "__delitem__")
_SLICE_FIELDS = frozenset(("start", "stop", "step"))


def _wire_index_args(args: Sequence[Any]) -> Sequence[Any]:
    """``args`` of an indexing call with a slice index in its wire form (PROTOCOL.md §5:
    ``{"start","stop","step"}``), for the server's lists and hosted objects alike. A mapping
    index of that shape would reach the object as a slice, so it is refused."""
    index = args[0]
    if type(index) is slice:
        wire = {"start": index.start, "stop": index.stop, "step": index.step}
        return (wire,) + tuple(args[1:])
    if isinstance(index, Mapping) and set(index) <= _SLICE_FIELDS:
        raise TypeError("an index that is a mapping with no keys other than 'start', 'stop' and "
                        "'step' would reach the object as a slice (PROTOCOL.md §5)")
    return args


def _list_index(index: Any) -> Any:
    # Any mapping: a list index never is one (Python's own message).
    if isinstance(index, Mapping):
        raise TypeError("list indices must be integers or slices, not %s" % type(index).__name__)
    return index


def wire_slice(index: Any) -> Any:
    """The inverse of :func:`_wire_index_args` for a hosted object: a ``{"start","stop",
    "step"}`` object (any of them, or none) becomes the slice it stands for (anything else is
    returned as it is)."""
    if type(index) is dict and index.keys() <= _SLICE_FIELDS:
        return slice(index.get("start"), index.get("stop"), index.get("step"))
    return index


class ListProxy(BaseProxy):
    """Proxy of a shared ``list``. Slices work (``l[1:3]``, ``l[:] = …``); ``str()`` and
    iteration use one snapshot (``l[:]``), as ``list(l)`` does for a Python ListProxy."""

    #: What ``register(..., proxytype=ListProxy)`` exposes by default (the server's list's methods).
    _exposed_ = ("__contains__", "__delitem__", "__getitem__", "__len__", "__setitem__", "append",
                 "clear", "count", "extend", "index", "insert", "pop", "remove", "reverse",
                 "sort")

    def _getvalue(self) -> List[Any]:
        return self._callmethod("__getitem__", (slice(None),))

    def __getitem__(self, index: Any) -> Any:
        return self._callmethod("__getitem__", (_list_index(index),))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._callmethod("__setitem__", (_list_index(index), value))

    def __delitem__(self, index: Any) -> None:
        self._callmethod("__delitem__", (_list_index(index),))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._getvalue())

    def __iadd__(self, value: Any) -> "ListProxy":
        """``l += iterable``: one ``extend`` call, as multiprocessing's ListProxy does. Lists,
        tuples, strings and dicts go as they are (the server iterates them); another iterable
        (a generator, another proxy…) is made a list here first."""
        if not isinstance(value, (list, tuple, str, dict)):
            value = list(value)
        self._callmethod("extend", (value,))
        return self

    # The server's list exposes no __add__/__mul__, so these work on one snapshot (l[:]): like
    # multiprocessing's, they return a new plain list and leave the shared one as it is.

    def __add__(self, value: Any) -> Any:
        """``l + other_list``: a new list. As for a list, only a list can be added (another
        operand gets ``TypeError`` without a round trip)."""
        if not isinstance(value, list):
            return NotImplemented
        return self._getvalue() + value

    def __mul__(self, count: Any) -> Any:
        """``l * n``: a new list, the items of one snapshot ``n`` times."""
        try:
            count = operator.index(count)
        except TypeError:
            return NotImplemented
        return self._getvalue() * count

    __rmul__ = __mul__

    def __imul__(self, count: Any) -> "ListProxy":
        """``l *= n`` raises ``TypeError``: the exposed methods cannot repeat a list in one
        atomic step (a snapshot then an ``extend`` would lose what others change in between).

        Defined only to say so: without it Python would fall back to ``__mul__`` and quietly
        rebind ``l`` to a plain list, leaving the shared list unchanged.
        """
        raise TypeError("a shared list cannot be repeated in place (l *= n): it would not be "
                        "atomic; use l[:] = l * n if losing concurrent changes is acceptable")


class ValueProxy(BaseProxy):
    """Proxy of a shared ``Value``: ``get()``, ``set(v)`` and the ``value`` property."""

    _snapshot_method = "get"
    _exposed_ = ("get", "set")

    @property
    def value(self) -> Any:
        return self._callmethod("get")

    @value.setter
    def value(self, new: Any) -> None:
        self._callmethod("set", (new,))


class NamespaceProxy(BaseProxy):
    """Proxy of a shared ``Namespace``: public attributes live on the server."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._callmethod("__getattr__", (key,))

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            object.__setattr__(self, key, value)
        else:
            self._callmethod("__setattr__", (key, value))

    def __delattr__(self, key: str) -> None:
        if key.startswith("_"):
            object.__delattr__(self, key)
        else:
            self._callmethod("__delattr__", (key,))

    def __str__(self) -> str:
        try:
            value = self._getvalue()
        except Exception:
            return self._str_failed()
        if isinstance(value, dict):
            return "Namespace(%s)" % ", ".join("%s=%r" % kv for kv in value.items())
        return str(value)


class ConditionProxy(AutoProxy):
    """Proxy of a shared ``Condition``; ``wait_for`` runs its predicate here, as Python's
    ConditionProxy does."""

    _exposed_ = ("acquire", "release", "wait", "notify", "notify_all")

    def wait_for(self, predicate: Any, timeout: Optional[float] = None) -> Any:
        """Waits until ``predicate()`` is true (the lock held, as for ``wait``) or ``timeout``
        seconds pass; returns the predicate's last value."""
        result = predicate()
        if result:
            return result
        endtime = None if timeout is None else time.monotonic() + timeout
        waittime = None
        while not result:
            if endtime is not None:
                waittime = endtime - time.monotonic()
                if waittime <= 0:
                    break
            self.wait(waittime)  # type: ignore[attr-defined]
            result = predicate()
        return result


class BarrierProxy(AutoProxy):
    """Proxy of a shared ``Barrier``: ``parties``, ``n_waiting`` and ``broken`` are properties,
    as on ``threading.Barrier`` (each one call)."""

    _exposed_ = ("wait", "abort", "reset", "parties", "n_waiting", "broken")

    @property
    def parties(self) -> int:
        return self._callmethod("parties")

    @property
    def n_waiting(self) -> int:
        return self._callmethod("n_waiting")

    @property
    def broken(self) -> bool:
        return self._callmethod("broken")


#: Proxy base class for the built-in typeids; others get AutoProxy.
BUILTIN_PROXIES: Dict[str, Type[BaseProxy]] = {
    "dict": DictProxy, "list": ListProxy, "Value": ValueProxy, "Namespace": NamespaceProxy,
    "Condition": ConditionProxy, "Barrier": BarrierProxy,
}

_cache: Dict[Tuple[type, str, Tuple[str, ...]], type] = {}
_cache_lock = threading.Lock()
_adopt_lock = threading.Lock()


def _reset_lock_in_child() -> None:
    global _cache_lock, _adopt_lock
    # A thread of the parent may have held them when it forked.
    _cache_lock = threading.Lock()
    _adopt_lock = threading.Lock()


def rebuild_proxy(settings: Dict[str, Any], oid: str, base: Type[BaseProxy]) -> Any:
    """Unpickles a proxy (see ``BaseProxy.__reduce__``): a lookup by id on a Manager of this
    process for the same server (:func:`orch.manager.manager_for`), which gives this process's
    session a reference of its own while the proxy lives.

    If that fails (``ConnectionError``, :class:`orch.AuthenticationError` as
    ``Manager.connect()`` raises them, or a 404 ``RemoteError`` for an object gone: an
    anonymous one whose last proxy in the sending process was collected first), the result is
    an :class:`UnreachableProxy` that raises the failure on its first use. multiprocessing
    raises it while unpickling instead, where a ``Pool`` worker cannot report it: the task is
    lost and ``map`` waits for ever. Here the task runs, and its failure reaches the caller."""
    from .manager import manager_for  # manager imports this module
    try:
        manager = manager_for(**settings)
        desc = manager._manager_op("lookup", id=oid)
    except Exception as e:  # noqa: BLE001 - any failure is kept for the first use
        return UnreachableProxy(settings, oid, base, e)
    cls = proxy_type(desc.get("typeid", ""), desc.get("exposed") or (), base)
    return cls(manager, desc, desc.get("name") is None)


def _unreachable(name: str):
    def method(self: "UnreachableProxy", *args: Any, **kwds: Any) -> Any:
        self._orch_raise()
    method.__name__ = name
    return method


class UnreachableProxy:
    """What a pickled proxy becomes in a process that could not rebuild it (see
    :func:`rebuild_proxy`): every use raises the rebuild's failure. Pickled again it is the
    proxy it stands for, which another process, with the key say, may rebuild.

    A reference read from a shared object to an object deleted meanwhile (PROTOCOL.md §5)
    comes as one too, whose every use raises :class:`orch.RemoteError` 404 ``no object 'ID'``
    (as does storing it in a shared object again)."""

    __slots__ = ("_orch_settings", "_id", "_orch_base", "_orch_error")

    def __init__(self, settings: Dict[str, Any], oid: str, base: Type[BaseProxy],
                 error: BaseException) -> None:
        object.__setattr__(self, "_orch_settings", settings)
        object.__setattr__(self, "_id", oid)
        object.__setattr__(self, "_orch_base", base)
        object.__setattr__(self, "_orch_error", error)

    def _orch_raise(self) -> None:
        # A fresh traceback each time: re-raising one instance would pile up the old ones.
        raise self._orch_error.with_traceback(None)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes (copy, pickle) find nothing
        self._orch_raise()

    def __setattr__(self, name: str, value: Any) -> None:
        self._orch_raise()

    def __reduce__(self):
        return (rebuild_proxy, (self._orch_settings, self._id, self._orch_base))

    def __repr__(self) -> str:
        return "<proxy of object %r, not rebuilt here: %s: %s>" % (
            self._id, type(self._orch_error).__name__, self._orch_error)


class _GoneReference(UnreachableProxy):
    """A reference to an object that was gone when the answer holding it was made."""

    __slots__ = ()

    def __init__(self, settings: Dict[str, Any], oid: str) -> None:
        super().__init__(settings, oid, AutoProxy,
                         RemoteError(404, "NotFound", "NotFound: no object '%s'" % oid))

    def __repr__(self) -> str:
        return "<proxy of object %r, which no longer exists>" % (self._id,)


for _name in _FORWARDED_DUNDERS + ("__iter__", "__bool__", "__enter__", "__exit__"):
    setattr(UnreachableProxy, _name, _unreachable(_name))
del _name


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)


def _sequence_iter(proxy: BaseProxy) -> Iterator[Any]:
    i = 0
    while True:
        try:
            item = proxy[i]  # type: ignore[index]
        except IndexError:
            return
        yield item
        i += 1


#: The server's sync types, and where their methods take a timeout (its position).
_SYNC_TYPEIDS = frozenset(("Queue", "JoinableQueue", "Lock", "RLock", "Semaphore",
                           "BoundedSemaphore", "Event", "Condition", "Barrier"))
_TIMEOUT_AT = {"get": 1, "put": 2, "join": 0, "acquire": 1, "wait": 0}


def finite_timeout(timeout: Any) -> Any:
    """An infinite timeout as None, which waits for ever as in Python (JSON has no infinity)."""
    return None if type(timeout) is float and timeout == math.inf else timeout


def _method(name: str, timeout_at: Optional[int] = None):
    if timeout_at is None:
        def method(self: BaseProxy, *args: Any, **kwds: Any) -> Any:
            return self._callmethod(name, args, kwds)
    else:
        def method(self: BaseProxy, *args: Any, **kwds: Any) -> Any:
            if len(args) > timeout_at:
                args = (args[:timeout_at] + (finite_timeout(args[timeout_at]),)
                        + args[timeout_at + 1:])
            if "timeout" in kwds:
                kwds["timeout"] = finite_timeout(kwds["timeout"])
            return self._callmethod(name, args, kwds)
    method.__name__ = name
    method.__qualname__ = name
    method.__doc__ = f"Calls {name}() on the shared object."
    return method


def proxy_type(typeid: str, exposed: Sequence[str],
               base: Optional[Type[BaseProxy]] = None) -> Type[BaseProxy]:
    """The proxy class for ``typeid`` with these exposed methods (cached)."""
    if base is None:
        base = BUILTIN_PROXIES.get(typeid, AutoProxy)
    key = (base, typeid, tuple(exposed))
    cls = _cache.get(key)
    if cls is not None:
        return cls
    # _orch_base: what a pickled proxy is rebuilt from (the class itself is made here, and
    # pickle could not find it by name).
    ns: Dict[str, Any] = {"__module__": __name__, "_orch_base": base}
    for name in exposed:
        if not isinstance(name, str) or hasattr(base, name) and name not in _FORWARDED_DUNDERS:
            continue  # the base class defines it better (items, value) or it is reserved
        if name.startswith("__") and name not in _FORWARDED_DUNDERS:
            continue
        if name in _FORWARDED_DUNDERS and name in base.__dict__:
            continue
        ns[name] = _method(name, _TIMEOUT_AT.get(name) if typeid in _SYNC_TYPEIDS else None)
    names = set(exposed)
    if "__iter__" not in base.__dict__ and base is AutoProxy:
        if "keys" in names:
            ns["__iter__"] = lambda self: iter(self._callmethod("keys"))
        elif "__getitem__" in names and "__len__" in names:
            ns["__iter__"] = _sequence_iter
    if {"acquire", "release"} <= names:
        # Like AcquirerProxy: `with lock:` acquires and releases.
        ns["__enter__"] = lambda self: self._callmethod("acquire")
        ns["__exit__"] = lambda self, *exc: self._callmethod("release")
    name = "AutoProxy[%s]" % typeid if base is AutoProxy else base.__name__
    with _cache_lock:
        cls = _cache.setdefault(key, type(name, (base,), ns))
    return cls
