"""Seed scenario 3: a custom manager, ``MyManager``, with a class-level ``register``.

Run against a running ``target/orch server`` (address and key from ORCH_ADDRESS and
ORCH_AUTHKEY, ORCH_AUTHKEY_FILE or $ORCH_HOME/authkey, as for the CLI)::

    PYTHONPATH=src/main/python python3 src/main/python/examples/custom_manager.py

Edits from the tutorial: ``orch.Manager`` instead of ``BaseManager``; ``my_manager.start()``
connects to the orch server and hosts ``UtilityClass`` from this process (instead of starting a
server process); the child's ``register('UtilityClass')`` is kept although orch does not need it
(``my_manager.UtilityClass()`` works for any typeid the server knows); the main process joins
the child instead of sleeping, and closes its manager at the end.
"""
from multiprocessing import Process

import orch

# The orch server's address: None takes $ORCH_ADDRESS, else 127.0.0.1:55555 (the tutorial's
# port_num), as MyManager() does.
address = None


class Utility:
    def capitalize(self, name):
        return name.capitalize()


class MyManager(orch.Manager):
    pass


MyManager.register("UtilityClass", Utility)


def process_task():
    my_manager = MyManager(address=address)
    my_manager.register("UtilityClass")
    my_manager.connect()

    utility = my_manager.UtilityClass()
    print(utility.capitalize("hello"))
    my_manager.close()


if __name__ == "__main__":
    my_manager = MyManager(address=address)

    my_manager.start()
    p = Process(target=process_task)
    p.start()
    p.join()

    print("Main process exiting")
    my_manager.close()
