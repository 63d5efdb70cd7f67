"""Seed scenario 1: a shared string "educative", with isdigit() and capitalize() called remotely.

Run against a running ``target/orch server`` (address and key from ORCH_ADDRESS and
ORCH_AUTHKEY, ORCH_AUTHKEY_FILE or $ORCH_HOME/authkey, as for the CLI)::

    PYTHONPATH=src/main/python python3 src/main/python/examples/shared_string.py

orch has no built-in string type. Two ways were possible: host the string from a worker, or
keep it in a ``Value`` and call the str methods locally on ``v.get()``. This example hosts it,
because that is what the tutorial shows: a proxy whose ``isdigit()`` and ``capitalize()`` run
*in the process that owns the string*, and whose ``str()`` is the remote string's ``repr()``
(``'educative'``, with its quotes, as the tutorial prints it with BaseManager). The edits from
the tutorial are: ``orch.Manager`` instead of ``BaseManager``; ``manager.start()`` connects to
the running orch server and serves the type from this process instead of starting a server
process. As with BaseManager, the proxy exposes the public methods of the object the callable
returns (here a str's), and its ``repr()`` and ``str()``.
"""
import time
from multiprocessing import Process

import orch

# The orch server's address: None takes $ORCH_ADDRESS, else 127.0.0.1:55555 (the tutorial's
# port), as orch.Manager() does.
address = None


def process_task():
    manager = orch.Manager(address=address)
    manager.register("get_my_string")
    manager.connect()
    proxy = manager.get_my_string()

    print(repr(proxy))
    print(str(proxy))

    print(proxy.isdigit())
    print(proxy.capitalize())
    manager.close()


if __name__ == "__main__":
    manager = orch.Manager(address=address)

    # Register our type
    my_string = "educative"
    manager.register("get_my_string", callable=lambda: my_string)
    manager.start()

    p = Process(target=process_task)
    p.start()
    p.join()  # instead of the tutorial's sleep: wait for the child to finish

    print("Exiting main process")
    manager.shutdown()
