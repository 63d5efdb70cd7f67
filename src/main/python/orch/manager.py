"""The Manager: connect to an orch server, create and look up shared objects, host types."""
from __future__ import annotations

import functools
import os
import ssl
import threading
import time
import types
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

from . import _auth, connection as _connection_mod, direct
from ._framing import REF_KEY, ProxyValue, encode_json_refs, replace_refs
from .connection import Connection
from .errors import RemoteError
from .hosting import Host, TypeSpec, make_spec
from .proxy import BaseProxy, UnreachableProxy, _GoneReference, finite_timeout, proxy_type

Address = Union[Tuple[str, int], str]


#: A PEM file to trust for the server (and TLS direct ports); set, it implies TLS.
TLS_CA_ENV = "ORCH_TLS_CA"
#: ``1``/``on``/``true``/``yes``: TLS with the system's roots when no CA file is given.
TLS_ENV = "ORCH_TLS"
_TRUE = ("1", "on", "true", "yes")
_FALSE = ("", "0", "off", "false", "no")
# The server's built-ins whose constructors have a fixed signature without 'name', so their
# sugar m.Queue(name=N) may take it for the object's name. Every other typeid (dict and
# Namespace, whose keywords are entries, and hosted types) gets every keyword, as in Python.
_NAMED_SUGAR = frozenset(("Queue", "JoinableQueue", "Lock", "RLock", "Semaphore",
                          "BoundedSemaphore", "Event", "Condition", "Barrier", "Value", "Array",
                          "list"))
# SyncManager's typeids the server has no type for: AttributeError, so hasattr() says so.
_NOT_OFFERED = {
    "Pool": "the orch server runs no Python functions; host a type (register() and "
            "serve_forever()) or have worker processes take jobs from a Queue",
}


#: Managers connected in this process, which proxies rebuilt here (unpickled in a child
#: ``Process``, or inherited through fork) call through. Weak, so that a Manager nothing uses
#: still closes itself.
_connected: "weakref.WeakSet[Manager]" = weakref.WeakSet()
# Reentrant: manager_for() connects a new Manager, which adds itself, under it.
_connected_lock = threading.RLock()


def _reset_lock_in_child() -> None:
    global _connected_lock
    _connected_lock = threading.RLock()  # a thread of the parent may have held it when it forked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)


def manager_for(address: Tuple[str, int], authkey: Optional[bytes], tls: bool,
                tls_ca: Optional[str], connect_timeout: float = 10.0) -> "Manager":
    """A Manager of this process connected to ``address``: one already connected here (with
    ``authkey``, when it is given), else a new one, connected now. ``authkey`` None takes the
    key from the environment, as ``Manager()`` does."""
    pid = _connection_mod._pid
    with _connected_lock:
        for m in list(_connected):
            conn = m._conn
            if (conn is not None and conn.pid == pid and not conn.closed
                    and m._address == address and m._tls == tls
                    and (authkey is None or conn.authkey == authkey)):
                return m
        return Manager(address, authkey, tls=tls, tls_ca=tls_ca,
                       connect_timeout=connect_timeout).connect()


def _spawning() -> bool:
    """Whether a ``multiprocessing`` child is being started, its arguments pickled for it."""
    from multiprocessing import context
    return context.get_spawning_popen() is not None


def _env_tls() -> bool:
    """``$ORCH_TLS`` as a boolean (unset or empty: False); ValueError when it is neither."""
    value = os.environ.get(TLS_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("%s=%r: expected 1/on/true/yes or 0/off/false/no"
                     % (TLS_ENV, os.environ.get(TLS_ENV)))


class _hybridmethod:
    """A method bound to the instance when called on one, else to the class.

    ``MyManager.register(...)`` registers for every instance, as with BaseManager;
    ``m.register(...)`` only for ``m``.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        # A bound method, not a functools.partial: help() and inspect.signature() then show
        # the function's own name, docstring and signature, as for any method.
        return types.MethodType(self.func, obj if obj is not None else cls)


class Manager:
    """A client of an orch server, in the spirit of ``multiprocessing.managers.BaseManager``.

    Args:
        address: ``(host, port)`` or ``"host:port"``; default ``$ORCH_ADDRESS``, else
            ``("127.0.0.1", 55555)``.
        authkey: the shared key (bytes, bytearray, or str encoded as UTF-8; another type raises
            ``TypeError`` and an empty key ``ValueError`` here); default ``$ORCH_AUTHKEY``
            unless empty, then the file ``$ORCH_AUTHKEY_FILE``, then ``$ORCH_HOME/authkey``
            (``~/.orch/authkey``), resolved when connecting as the CLI does: a key file loses
            one trailing LF or CRLF, and an empty one raises ``OSError`` naming it.
        tls: connect with TLS (verifying the server certificate: with a CA file its chain, with
            the system's roots its host name too). By default
            (None) TLS when there is a CA file (``tls_ca`` or ``$ORCH_TLS_CA``) or ``$ORCH_TLS``
            is ``1``/``on``/``true``/``yes``. ``tls=True`` without a CA file trusts the system's
            roots. ``tls=False`` connects in the clear whatever the environment says, and uses
            the CA file only for workers that take direct calls over TLS.
        tls_ca: CA bundle (PEM) to verify the server with, and hosting workers whose direct
            port speaks TLS; default ``$ORCH_TLS_CA``, else the system store. The file may also
            hold a certificate that is not a CA's, e.g. the server's own leaf certificate
            (what an orch server hands its children as ``ORCH_TLS_CA``): every certificate in
            it is trusted as an anchor (``VERIFY_X509_PARTIAL_CHAIN``, Python 3.10+), as Java
            trusts it.
        name: a name shown by the server for this session.
        connect_timeout: seconds allowed for the TCP connect and the login.

    The environment (``ORCH_ADDRESS``, ``ORCH_TLS_CA``, ``ORCH_TLS``, ``ORCH_DIRECT``) is read
    when the Manager is made, the key when it connects; a malformed ``ORCH_TLS`` (not one of
    ``1``/``on``/``true``/``yes``, ``0``/``off``/``false``/``no`` or empty) raises ValueError
    here, even when ``tls`` is given. So a process started by a TLS server, which hands its
    children ``ORCH_ADDRESS``, the key file and ``ORCH_TLS_CA``, reaches it with ``Manager()``.

    Every public method is thread-safe; calls from many threads share one pipelined connection.
    Unknown attributes create objects: ``m.dict()`` is ``m.create("dict")``. A Manager never
    connected connects on its first call, as ``multiprocessing.Manager()`` hands back one
    ready to use; once closed, it raises ``ConnectionError`` until :meth:`connect`.

    Calls on an object hosted by a worker that offers direct calls go straight to that worker,
    over one more connection per worker opened on the first call (PROTOCOL.md §7, "Direct
    calls"); everything else, and those calls too when the worker cannot be reached directly,
    goes through the server. ``ORCH_DIRECT=off`` in the environment when the Manager is made
    sends every call through the server. A worker that offers TLS (``directTls``) is reached over
    TLS, its certificate chain checked against ``tls_ca`` (or the system store) but not its host
    name; an untrusted one gets its calls through the server. A Manager connected with TLS
    ignores plain offers.
    """

    #: Types registered on the class (``MyManager.register``), seen by every instance.
    _registry: Dict[str, TypeSpec] = {}

    def __init__(self, address: Optional[Address] = None,
                 authkey: Union[bytes, bytearray, str, None] = None, *, tls: Optional[bool] = None,
                 tls_ca: Optional[str] = None, name: Optional[str] = None,
                 connect_timeout: float = 10.0) -> None:
        self._address = _auth.resolve_address(address)
        # Checked now, so a wrong type fails where it is written rather than at connect().
        self._authkey = None if authkey is None else _auth.authkey_argument(authkey)
        env_tls = _env_tls()  # checked even when unused: a malformed value is never ignored
        if tls_ca is None:
            tls_ca = os.environ.get(TLS_CA_ENV, "").strip() or None
        if tls is None:
            tls = tls_ca is not None or env_tls
        self._tls = bool(tls)
        self._tls_ca = tls_ca
        self._direct_tls: Optional[ssl.SSLContext] = None
        self._client_name = name
        self._connect_timeout = connect_timeout
        self._types: Dict[str, TypeSpec] = {}  # this instance's registrations
        self._conn: Optional[Connection] = None
        self._host: Optional[Host] = None
        self._serving = False
        self._closing = False
        self._lock = threading.RLock()
        self._direct = direct.enabled_for_clients()
        self._routes: Dict[Tuple[str, str, bool], direct.Route] = {}

    # -- connection --------------------------------------------------------------------------

    @property
    def address(self) -> Tuple[str, int]:
        """The server's ``(host, port)``."""
        return self._address

    @property
    def session(self) -> Optional[str]:
        """The session id the server gave this connection, once connected."""
        return self._conn.session if self._conn else None

    def connect(self) -> "Manager":
        """Connects and logs in (idempotent). Raises :class:`orch.AuthenticationError` for a
        wrong key and ``ConnectionError`` for any other failure, naming the address. It is also
        of its cause's class: ``ConnectionRefusedError``, ``socket.gaierror`` (an unknown host),
        ``TimeoutError`` (no connect, or no login answer, within ``connect_timeout``),
        ``ssl.SSLError`` (the TLS handshake failed); a peer that is not an orch server gives a
        plain ``ConnectionError`` that says so.

        Once the connection is closed or lost, connects again, as a new session: proxies made
        before belong to the old connection (their calls raise ``ConnectionError``); get new
        ones with :meth:`create` or :meth:`lookup`."""
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                return self
            # The server's certificate is checked as a worker's is, and as the Java client does.
            context = self._direct_tls_context() if self._tls else None
            self._conn = Connection(self._address, _auth.resolve_authkey(self._authkey),
                                    ssl_context=context, client_name=self._client_name,
                                    connect_timeout=self._connect_timeout).open()
            self._closing = False
            self._host = None
            self._serving = False
            with _connected_lock:
                _connected.add(self)
            # A new session: direct connections logged in with the old one say a session that
            # is gone, and what the old routes learnt while the server connection was down
            # does not hold for the new one.
            routes, self._routes = list(self._routes.values()), {}
        for route in routes:
            route.close()
        return self

    def close(self) -> None:
        """Closes the connection. The server drops this session's references to anonymous
        objects, and the types this process hosted go away (their objects fail with 410).

        In a process forked from the one that connected (a child leaving ``with Manager()``,
        say), this only closes the child's copies of the connections: the parent goes on using
        them, and keeps hosting."""
        conn = self._conn
        if conn is not None and conn.pid != os.getpid():
            self._close_in_child()
            return
        with self._lock:
            self._closing = True
            conn, self._conn = self._conn, None
            routes, self._routes = list(self._routes.values()), {}
            # Not serving any more: a register() now only records the type for the next start.
            host, self._host, self._serving = self._host, None, False
        for route in routes:
            route.close()
        if host is not None:
            host.close()
        if conn is not None:
            conn.close()

    def _close_in_child(self) -> None:
        # No lock: a thread of the parent may have held it when it forked. The listener and
        # direct connections this process hosted were closed by the fork handler already.
        self._closing = True
        conn, self._conn = self._conn, None
        routes, self._routes = list(self._routes.values()), {}
        self._host, self._serving = None, False
        for route in routes:
            route.close()
        if conn is not None:
            conn.close()

    def shutdown(self) -> None:
        """Same as :meth:`close`; the orch server keeps running (see :meth:`shutdown_server`).

        BaseManager.shutdown() stops the manager's own server process; in orch the server is
        shared, so this only ends what this process did (its connection and hosted types).
        """
        self.close()

    def __enter__(self) -> "Manager":
        """Connects and, when a registered type has a callable, hosts the registered types as
        :meth:`start` does: ``BaseManager.__enter__`` starts its server, which serves them, so
        ``with MyManager() as m: m.Maths()`` works as in multiprocessing's docs. Leaving the
        block closes the Manager (:meth:`close`), which ends the hosting.

        Raises as :meth:`connect` and :meth:`start` do (409 ``NameTaken`` when another
        session hosts one of the typeids), closing the connection first. A client that only
        uses such types connects with :meth:`connect`, or registers them without a callable
        on its instance (``m.register("Maths")``), as BaseManager clients do."""
        self.connect()
        if any(spec.factory is not None for spec in self._specs().values()):
            try:
                self.start_serving()
            except BaseException:
                self.close()  # __exit__ will not run: nothing may stay open behind the raise
                raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is None:
            if self._closing:
                raise ConnectionError("Manager is closed; call connect() to start a new session")
            # Never connected: as multiprocessing.Manager() hands back a manager ready to use,
            # the first call connects (and raises what connect() raises).
            conn = self.connect()._conn
            if conn is None:  # closed by another thread meanwhile
                raise ConnectionError("Manager is closed; call connect() to start a new session")
        return conn

    def _manager_op(self, op: str, **fields: Any) -> Any:
        body = {"op": op}
        body.update(fields)
        return self._here()._connection().request("orch.manager", body)

    def _here(self) -> "Manager":
        """This Manager, or, in a process forked from the one that connected it, a Manager of
        this process for the same server and key (see :func:`manager_for`): the connection is
        the parent's, and a child writing on it would garble both sides' frames."""
        conn = self._conn
        if conn is None or conn.pid == _connection_mod._pid:
            return self
        return manager_for(self._address, conn.authkey, self._tls, self._tls_ca,
                           self._connect_timeout)

    def _pickle_settings(self) -> Dict[str, Any]:
        """How a proxy pickled from this Manager finds the server again (see
        ``BaseProxy.__reduce__``). The key goes along only to a ``multiprocessing`` child being
        started, as multiprocessing's proxies do it: one sent anywhere else (through a
        ``multiprocessing.Queue``, say) is rebuilt with the key of the environment."""
        key = None
        if _spawning():
            conn = self._conn
            key = conn.authkey if conn is not None else self._authkey
        return {"address": self._address, "authkey": key, "tls": self._tls,
                "tls_ca": self._tls_ca, "connect_timeout": self._connect_timeout}

    # -- objects -----------------------------------------------------------------------------

    def create(self, typeid: str, *args: Any, name: Optional[str] = None,
               **kwargs: Any) -> BaseProxy:
        """Creates a shared object and returns its proxy.

        With ``name`` the object is named: it lives until :meth:`delete` and others can
        :meth:`lookup` it. Without, it is anonymous and released when its last proxy in this
        process is garbage collected (or this manager closes). The arguments may hold proxies:
        one of the server's own types keeps their objects alive while it holds them
        (``m.list([m.dict()])``, PROTOCOL.md §5), and a Python worker's constructor gets a proxy
        of each, which keeps its object alive while the worker keeps it (§7)."""
        return self._create(typeid, args, kwargs, name)

    def _create(self, typeid: str, args: Sequence[Any], kwargs: Dict[str, Any],
                name: Optional[str]) -> BaseProxy:
        body: Dict[str, Any] = {"typeid": typeid}
        if args:
            body["args"] = list(args)
        if kwargs:
            body["kwargs"] = kwargs
        if name is not None:
            body["name"] = name
        try:
            try:
                desc = self._manager_op("create", **body)
            except ProxyValue:
                # Raised while encoding, before anything was sent: the arguments hold a proxy,
                # which go as references (a worker's constructor gets a proxy of each).
                body["op"] = "create"
                desc = self._here()._connection().request(
                    "orch.manager", encode_json_refs(body, self._wire_ref))
        except RemoteError as e:
            hint = self._not_hosted_hint(e, typeid)
            if hint is None:
                raise
            raise hint from e
        return self._make_proxy(desc, owned=desc.get("name") is None)

    def _not_hosted_hint(self, e: RemoteError, typeid: str) -> Optional[RemoteError]:
        """For a 404 of a typeid this Manager registered with a callable but does not host,
        the same error saying so (a bare "unknown typeid" sends one looking for a typo); else
        None."""
        spec = self._specs().get(typeid)
        host = self._host
        if (e.code != 404 or spec is None or spec.factory is None
                or (self._serving and host is not None and typeid in host.typeids)):
            return None
        return RemoteError(e.code, e.name, "%s: this Manager registered it but does not host "
                           "it; call start() or serve_forever() (or enter a 'with' block), or "
                           "have another process host it" % (e.message,))

    def lookup(self, name: Optional[str] = None, *, id: Optional[str] = None) -> BaseProxy:
        """A proxy for the object called ``name`` (or with this ``id``)."""
        if (name is None) == (id is None):
            raise TypeError("lookup() takes a name or id=, not both")
        desc = self._manager_op("lookup", **({"name": name} if name is not None else {"id": id}))
        return self._make_proxy(desc, owned=desc.get("name") is None)

    def delete(self, name: str) -> None:
        """Deletes the named object."""
        self._manager_op("delete", name=name)

    def types(self) -> List[Dict[str, Any]]:
        """Every type the server knows: ``[{"typeid", "exposed", "host"}]``."""
        return self._manager_op("types")["types"]

    def objects(self) -> List[Dict[str, Any]]:
        """Every live object: ``[{"id", "typeid", "name", "refs", "host"}]``."""
        return self._manager_op("objects")["objects"]

    def status(self) -> Dict[str, int]:
        """The server's counts, ``{"objects", "types", "sessions"}``: the cheapest question
        to ask a server (a health check), however many objects it holds."""
        return self._manager_op("status")

    def shutdown_server(self) -> None:
        """Stops the orch server itself (every client is disconnected)."""
        self._manager_op("shutdown")

    def Value(self, *args: Any, name: Optional[str] = None, **kwargs: Any) -> BaseProxy:
        """A shared ``Value(value=None)``. SyncManager's ``Value('i', 5)`` and
        ``Value('i', 5, lock=False)`` also work: a one-letter typecode before the value is
        dropped, as orch values are untyped JSON, and so is ``lock``, since every call on one
        object is atomic on the server."""
        kwargs.pop("lock", None)
        if 2 <= len(args) <= 3 and isinstance(args[0], str) and len(args[0]) == 1:
            args = args[1:2]
        return self.create("Value", *args, name=name, **kwargs)

    def Barrier(self, parties: int, action: Any = None, timeout: Optional[float] = None, *,
                name: Optional[str] = None) -> BaseProxy:
        """A shared ``Barrier``, with ``threading.Barrier``'s signature. ``action`` must be
        None: the server, which releases the parties, cannot run a Python callable."""
        if action is not None:
            raise NotImplementedError(
                "orch barriers take no action: the orch server releases the parties and cannot "
                "run a callable (SYNC.md, Barrier); have the party whose wait() returns 0 run it")
        timeout = finite_timeout(timeout)
        kwargs = {} if timeout is None else {"timeout": timeout}
        return self._create("Barrier", [parties], kwargs, name)

    def _wire_ref(self, proxy: Any) -> Dict[str, str]:
        """The reference that stands for ``proxy`` in a call to this Manager's server
        (PROTOCOL.md §5). A proxy that could not be made raises its failure, as on any use."""
        if isinstance(proxy, UnreachableProxy):
            proxy._orch_raise()
        other = proxy._manager
        if other is not self and other._address != self._address and not self._same_server(other):
            raise TypeError(
                "a proxy of an object of the orch server at %s:%d cannot be sent to the server "
                "at %s:%d: a reference names an object of one server"
                % (other._address + self._address))
        return {REF_KEY: proxy._id}

    def _same_server(self, other: "Manager") -> bool:
        """Whether ``other`` is connected to this Manager's server by another name (``localhost``
        for ``127.0.0.1``, say): the same peer socket address."""
        mine, theirs = self._conn, other._conn
        return (mine is not None and theirs is not None and mine.peer is not None
                and mine.peer == theirs.peer)

    def _proxies_in(self, value: Any) -> Any:
        """``value``, a result that may hold references (PROTOCOL.md §5), with each one made a
        proxy, in place: the answer gave this session one reference per occurrence, which
        that proxy owns."""
        if type(value) is dict:
            if REF_KEY in value:
                return self._from_ref(value)
        elif type(value) is not list:
            return value
        replace_refs([value], self._from_ref)
        return value

    def _from_ref(self, ref: Dict[str, Any]) -> Any:
        """The proxy for one expanded reference: a lookup answer with ``"orch.ref"`` added,
        or ``{"orch.ref": ID}`` alone for an object gone meanwhile."""
        oid = ref[REF_KEY]
        if type(oid) is not str or not oid:
            return ref  # not a reference the server made; left as it came
        if ref.get("typeid") is None:
            return _GoneReference(self._pickle_settings(), oid)
        ref.setdefault("id", oid)
        return self._make_proxy(ref, owned=ref.get("name") is None)

    def _make_proxy(self, desc: Dict[str, Any], owned: bool) -> BaseProxy:
        typeid = desc.get("typeid", "")
        spec = self._types.get(typeid) or type(self)._registry.get(typeid)
        base: Optional[Type[BaseProxy]] = spec.proxytype if spec and spec.proxytype else None
        cls = proxy_type(typeid, desc.get("exposed") or (), base)
        return cls(self._here(), desc, owned)

    def _direct_route(self, desc: Dict[str, Any]) -> Optional[direct.Route]:
        """The route for calls on the object ``desc`` describes, or None (through the server)."""
        address, host = desc.get("direct"), desc.get("host")
        if not self._direct or not isinstance(address, str) or not isinstance(host, str):
            return None
        if host == self.session:
            return None  # our own object: the server route reaches this process's handler
        tls = desc.get("directTls") is True
        if self._tls and not tls:
            return None  # what is encrypted to the server is not sent to a worker in the clear
        key = (address, host, tls)
        route = self._routes.get(key)
        if route is None:
            with self._lock:
                route = self._routes.get(key)
                if route is None:
                    route = self._routes[key] = direct.Route(self, address, host, tls)
        return route

    def _direct_tls_context(self) -> ssl.SSLContext:
        """How this Manager checks the server's certificate and those of workers whose direct
        port speaks TLS (made once)."""
        context = self._direct_tls
        if context is None:  # no lock: two threads may each make one, and either will do
            context = self._direct_tls = direct.client_tls_context(self._tls_ca)
        return context

    def __getattr__(self, typeid: str) -> Callable[..., BaseProxy]:
        # Attribute sugar: m.dict(), m.Queue(), m.UtilityClass(); never for private names, which
        # copy/pickle/inspect probe.
        if typeid.startswith("_"):
            raise AttributeError(typeid)
        if typeid in _NOT_OFFERED and typeid not in self._specs():
            raise AttributeError("orch.Manager has no %s(): %s" % (typeid, _NOT_OFFERED[typeid]))
        if typeid not in _NAMED_SUGAR:
            # As in Python, every keyword goes to the constructor (m.Namespace(name="w") has an
            # attribute 'name', m.Person(name="Ann") is Ann); such an object is named with
            # m.create(typeid, ..., name=N).
            def construct(*args, **kwargs):  # no annotations: help() shows it plain
                return self._create(typeid, args, kwargs, None)
            construct.__name__ = construct.__qualname__ = typeid
            construct.__doc__ = ("A new anonymous shared %s; every keyword argument goes to its "
                                 "constructor, as in Python. Name one with create(%r, ..., name=N)."
                                 % (typeid, typeid))
            return construct
        def create_named(*args, name=None, **kwargs):  # no annotations: help() shows it plain
            return self.create(typeid, *args, name=name, **kwargs)
        create_named.__name__ = create_named.__qualname__ = typeid
        create_named.__doc__ = ("A new shared %s: create(%r, *args, name=name, **kwargs). With "
                                "name it is named (it lives until delete(name), and lookup(name) "
                                "finds it); without, it is anonymous." % (typeid, typeid))
        return create_named

    # -- hosting -----------------------------------------------------------------------------

    @_hybridmethod
    def register(target: Any, typeid: str, callable: Optional[Callable[..., Any]] = None,
                 proxytype: Optional[Type[BaseProxy]] = None,
                 exposed: Optional[Sequence[str]] = None,
                 method_to_typeid: Optional[Dict[str, str]] = None,
                 create_method: bool = True) -> None:
        """Registers ``typeid``, on the class (``MyManager.register``) or on one manager.

        The arguments are BaseManager's, in its order. With ``callable`` (a class or a factory),
        this process can host the type: after :meth:`serve_forever`, :meth:`start_serving` or
        :meth:`start`, any client's ``create`` of ``typeid`` builds ``callable(*args,
        **kwargs)`` here and its exposed methods run here. ``exposed`` defaults to the
        ``_exposed_`` of ``proxytype``, else the public methods of the class; pass it for a
        factory that is not a class. Without ``callable`` the registration only declares the
        typeid (as BaseManager clients do); ``proxytype`` (a subclass of
        :class:`orch.BaseProxy`) picks the proxy class for it.

        ``method_to_typeid`` (methods returning shared objects) is refused with
        ``NotImplementedError`` unless empty: a hosted method's result is a JSON value.
        ``create_method`` is accepted and has no effect, as ``m.TYPEID()`` works for every
        typeid the server knows. A class registration made after an instance exists counts for
        it too, as with BaseManager; one on the instance wins.
        """
        if method_to_typeid:
            raise NotImplementedError(
                f"register({typeid!r}, method_to_typeid=...): a hosted method's result is a "
                "JSON value, not a shared object; create the object with a name and return the "
                "name, which the caller passes to Manager.lookup()")
        if exposed is None and isinstance(proxytype, (list, tuple)):
            # Earlier orch releases took exposed third: register(typeid, callable, [names]).
            proxytype, exposed = None, proxytype
        spec = make_spec(typeid, callable, exposed, proxytype)
        if isinstance(target, type):
            if "_registry" not in target.__dict__:
                target._registry = dict(target._registry)
            target._registry[typeid] = spec
            return
        target._types[typeid] = spec
        if target._serving and spec.factory is not None:
            target._host.add(spec)

    def _specs(self) -> Dict[str, TypeSpec]:
        """The registrations in force: the class's now (BaseManager reads them at start()),
        overridden by this instance's."""
        specs = dict(type(self)._registry)
        specs.update(self._types)
        return specs

    def start_serving(self) -> "Manager":
        """Connects if needed and hosts every registered type that has a callable.

        Returns at once: the connection's reader thread receives the work, and a pool of
        daemon threads runs constructors and methods. Raises :class:`orch.RemoteError` 409
        ``NameTaken`` when another process hosts one of the typeids (or it is a built-in one);
        the types announced before it stay hosted, and calling this again retries the rest.
        """
        self.connect()
        with self._lock:
            if self._serving:
                return self
            hosted = [s for s in self._specs().values() if s.factory is not None]
            # Kept when an add fails (409: another process hosts that typeid): the types added
            # before it are served by this Host, and a retry reuses its listener.
            if self._host is None:
                self._host = Host(self._connection(), self)
            host = self._host
            host.start()
            for spec in hosted:
                host.add(spec)
            self._serving = True
        return self

    def start(self) -> "Manager":
        """Like ``BaseManager.start()``: connect and serve registered types in the background.

        BaseManager.start() launches a server process; the orch server already runs, so this is
        :meth:`start_serving`.
        """
        return self.start_serving()

    def get_server(self) -> Any:
        """Not offered: BaseManager's server object runs in the manager's own process, and the
        orch server runs on its own; :meth:`serve_forever` hosts the registered types."""
        raise NotImplementedError(
            "orch.Manager.get_server(): the orch server runs on its own (orch server); to host "
            "the registered types in this process call serve_forever() or start()")

    def join(self, timeout: Optional[float] = None) -> None:
        """Not offered: there is no manager process to wait for (BaseManager.join waits for
        the one start() launched); :meth:`serve_forever` blocks until :meth:`close`."""
        raise NotImplementedError(
            "orch.Manager.join(): start() launches no process to wait for; serve_forever() "
            "hosts the registered types until close()")

    def serve_forever(self) -> None:
        """Hosts the registered types until :meth:`close` or Ctrl-C.

        Raises ``ConnectionError`` if the connection to the server is lost.
        """
        self.start_serving()
        conn = self._connection()
        conn.start_background_reader()
        try:
            # Sleep and look, rather than wait on the connection's Event: Ctrl-C raised inside
            # Event.wait can leave its lock held, and then closing the connection (which sets the
            # Event) would hang.
            while not conn.closed:
                time.sleep(0.2)
        except KeyboardInterrupt:
            self.close()
            return
        if not self._closing:
            raise ConnectionError(str(conn.close_error or "orch connection lost"))

    def __repr__(self) -> str:
        state = "connected" if self._conn is not None and not self._conn.closed else "closed"
        return "<%s %s:%d %s>" % (type(self).__name__, self._address[0], self._address[1], state)
