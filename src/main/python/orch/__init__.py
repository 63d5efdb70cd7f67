"""orch: Python client of the orch shared-object manager.

    import orch
    with orch.Manager(("127.0.0.1", 55555), authkey=b"secret") as m:
        d = m.dict()
        d["k"] = 1

See :class:`orch.Manager`; the wire protocol is ``src/docs/PROTOCOL.md``.
"""
from .errors import AuthenticationError, OrchError, RemoteError
from .hosting import caller_session
from .manager import Manager
from .proxy import (AutoProxy, BarrierProxy, BaseProxy, ConditionProxy, DictProxy, ListProxy,
                    NamespaceProxy, UnreachableProxy, ValueProxy)

__all__ = ["Manager", "BaseProxy", "AutoProxy", "DictProxy", "ListProxy", "ValueProxy",
           "NamespaceProxy", "ConditionProxy", "BarrierProxy", "UnreachableProxy", "RemoteError",
           "AuthenticationError", "OrchError", "caller_session"]
__version__ = "0.1.0"
