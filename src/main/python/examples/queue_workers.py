"""SyncManager's best-known pattern on orch: worker processes fed through a shared Queue.

Run against a running ``target/orch server`` (address and key from ORCH_ADDRESS and
ORCH_AUTHKEY, ORCH_AUTHKEY_FILE or $ORCH_HOME/authkey, as for the CLI)::

    PYTHONPATH=src/main/python python3 src/main/python/examples/queue_workers.py

The multiprocessing version differs in one line: ``orch.Manager()`` instead of
``multiprocessing.Manager()``. The proxies go to the workers as their arguments, as there. Each
worker calls through a connection of its own, so a worker that dies releases the lock it held.
"""
from multiprocessing import Process

import orch

WORKERS = 3


def work(jobs, results, lock):
    while True:
        n = jobs.get()
        if n is None:  # one stop sign per worker
            break
        with lock:  # only to show a lock shared between processes
            results[n] = n * n


if __name__ == "__main__":
    with orch.Manager() as manager:
        jobs, results, lock = manager.Queue(), manager.dict(), manager.Lock()
        workers = [Process(target=work, args=(jobs, results, lock)) for _ in range(WORKERS)]
        for p in workers:
            p.start()
        for n in range(10):
            jobs.put(n)
        for _ in workers:
            jobs.put(None)
        for p in workers:
            p.join()
        print(sorted(results.items()))
        print("exit codes:", sorted({p.exitcode for p in workers}))
