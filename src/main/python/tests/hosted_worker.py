"""A worker process hosting ``UtilityClass`` for the tests: ``python -m tests.hosted_worker ADDR``.

The authkey comes from the environment (``ORCH_AUTHKEY_FILE``), as for any orch client.
Prints ``ready`` once the type is hosted.
"""
import sys
import time

import orch


class Utility:
    def capitalize(self, name):
        return name.capitalize()

    def echo(self, payload):
        return payload

    def sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def remote_get(self, name, key):
        """Reads a named dict through this worker's own connection (a nested remote call)."""
        return manager.lookup(name)[key]

    def queue_get(self, name):
        """Blocks on a named remote Queue until another client puts an item."""
        return manager.lookup(name).get()

    def fail(self, kind):
        raise {"value": ValueError, "key": KeyError, "runtime": RuntimeError}[kind]("boom")

    def not_json(self):
        return {1, 2}


class WorkerManager(orch.Manager):
    pass


WorkerManager.register("UtilityClass", Utility)
manager = None  # the worker's manager, for methods that call other objects

if __name__ == "__main__":
    manager = WorkerManager(sys.argv[1], name="test-worker")
    manager.start_serving()
    print("ready", flush=True)
    try:
        manager.serve_forever()
    except ConnectionError:
        sys.exit(0)
