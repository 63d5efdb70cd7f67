"""Seed scenario 2: ``UtilityClass`` hosted by a worker process and called from another.

Start the worker (it serves until Ctrl-C), then run the caller from another terminal; both
talk to a running ``target/orch server`` (address and key from ORCH_ADDRESS and
ORCH_AUTHKEY, ORCH_AUTHKEY_FILE or $ORCH_HOME/authkey, as for the CLI)::

    PYTHONPATH=src/main/python python3 src/main/python/examples/utility_worker.py serve
    PYTHONPATH=src/main/python python3 src/main/python/examples/utility_worker.py call

The caller need not be Python: ``target/orch new UtilityClass u1`` then
``target/orch call u1 capitalize '"hello"'`` prints ``"Hello"``.
"""
import sys

import orch


class Utility:
    def capitalize(self, name):
        return name.capitalize()


def serve():
    manager = orch.Manager()
    manager.register("UtilityClass", Utility)  # exposed: public methods of Utility
    print("hosting UtilityClass; Ctrl-C to stop", flush=True)
    try:
        manager.serve_forever()
    except ConnectionError as e:  # the server stopped: nothing left to serve
        print(f"server gone: {e}", flush=True)
    except KeyboardInterrupt:
        pass


def call():
    with orch.Manager() as manager:
        utility = manager.UtilityClass()
        print(utility.capitalize("hello"))


if __name__ == "__main__":
    {"serve": serve, "call": call}[sys.argv[1] if len(sys.argv) > 1 else "call"]()
