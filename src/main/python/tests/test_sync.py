"""The synchronisation types (Queue, Lock, Event…), skipped while the server lacks them (404)."""
import math
import queue
import threading
import time
import unittest

import orch
from tests.support import OrchServer, ServerTestCase, call_later, wait_until


class QueueTest(ServerTestCase):
    def test_fifo(self):
        q = self.create_or_skip("Queue")
        q.put(1)
        q.put({"two": 2})
        self.assertEqual(q.qsize(), 2)
        self.assertEqual(q.get(), 1)
        self.assertEqual(q.get(), {"two": 2})
        self.assertTrue(q.empty())

    def test_empty_and_full(self):
        q = self.create_or_skip("Queue", 1)
        with self.assertRaises(queue.Empty):
            q.get_nowait()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.1)
        q.put("x")
        with self.assertRaises(queue.Full):
            q.put_nowait("y")
        with self.assertRaises(queue.Full):
            q.put("y", timeout=0.1)

    def test_blocking_get_is_woken_by_another_thread(self):
        q = self.create_or_skip("Queue")
        call_later(self, 0.3, q.put, "late")
        self.assertEqual(q.get(timeout=10), "late")

    def test_blocking_get_does_not_block_other_calls(self):
        # Pipelining: a parked get() on the shared connection leaves other threads free.
        q = self.create_or_skip("Queue")
        got = []
        t = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
        t.start()
        d = self.m.dict()
        for i in range(20):
            d[i] = i
        self.assertEqual(len(d), 20)
        q.put("done")
        t.join(10)
        self.assertEqual(got, ["done"])


class InfiniteTimeoutTest(ServerTestCase):
    """timeout=math.inf waits for ever, as in Python (JSON cannot carry it: it goes as null)."""

    def test_queue(self):
        q = self.m.Queue(1)
        call_later(self, 0.3, q.put, "late")
        self.assertEqual(q.get(timeout=math.inf), "late")
        call_later(self, 0.3, q.put, "later")
        self.assertEqual(q.get(True, math.inf), "later")
        q.put("full")
        call_later(self, 0.3, q.get)
        q.put("next", True, math.inf)
        self.assertEqual(q.get(), "next")
        for _ in range(3):  # of the four items put
            q.task_done()
        call_later(self, 0.3, q.task_done)
        self.assertTrue(q.join(math.inf))
        jq = self.m.JoinableQueue()
        jq.put(1, timeout=math.inf)
        self.assertEqual(jq.get(block=True, timeout=math.inf), 1)
        jq.task_done()
        self.assertTrue(jq.join(timeout=math.inf))

    def test_locks_events_conditions_barriers(self):
        for typeid in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition"):
            with self.subTest(typeid=typeid):
                lock = self.m.create(typeid)
                self.assertTrue(lock.acquire(True, math.inf))
                lock.release()
                self.assertTrue(lock.acquire(timeout=math.inf))
                lock.release()
        event = self.m.Event()
        call_later(self, 0.3, event.set)
        self.assertTrue(event.wait(math.inf))
        self.assertTrue(event.wait(timeout=math.inf))
        self.assertEqual(self.m.Barrier(1, timeout=math.inf).wait(math.inf), 0)
        self.assertEqual(self.m.Barrier(1).wait(timeout=math.inf), 0)
        cond = self.m.Condition(name="cond-inf")
        self.addCleanup(self.m.delete, "cond-inf")
        other = self.server.manager()  # ownership is per session: another one notifies
        self.addCleanup(other.close)

        def notify():
            c = other.lookup("cond-inf")
            with c:
                c.notify()
        with cond:
            call_later(self, 0.3, notify)
            self.assertTrue(cond.wait(math.inf))
            call_later(self, 0.3, notify)
            self.assertTrue(cond.wait(timeout=math.inf))


class JoinableQueueTest(ServerTestCase):
    def test_join_waits_for_task_done(self):
        self.check_join(self.create_or_skip("JoinableQueue"))

    def test_a_plain_queue_joins_too(self):
        # SyncManager's Queue is a queue.Queue, task_done and join included.
        self.check_join(self.m.Queue())

    def check_join(self, q):
        q.put("job")
        self.assertFalse(q.join(0.1))
        self.assertEqual(q.get(), "job")
        call_later(self, 0.2, q.task_done)
        self.assertTrue(q.join(10))
        with self.assertRaises(ValueError):
            q.task_done()


class LockTest(ServerTestCase):
    def test_lock(self):
        lock = self.create_or_skip("Lock")
        self.assertTrue(lock.acquire())
        self.assertFalse(lock.acquire(timeout=0.1))
        lock.release()
        with lock:
            self.assertFalse(lock.acquire(blocking=False))

    def test_release_unlocked_is_runtime_error(self):
        lock = self.create_or_skip("Lock")
        with self.assertRaises(RuntimeError):
            lock.release()

    def test_rlock_reentrant(self):
        rlock = self.create_or_skip("RLock")
        self.assertTrue(rlock.acquire())
        self.assertTrue(rlock.acquire())
        rlock.release()
        rlock.release()


class EventTest(ServerTestCase):
    def test_event(self):
        ev = self.create_or_skip("Event")
        self.assertFalse(ev.is_set())
        self.assertFalse(ev.wait(0.1))
        call_later(self, 0.2, ev.set)
        self.assertTrue(ev.wait(10))
        ev.clear()
        self.assertFalse(ev.is_set())


class SemaphoreTest(ServerTestCase):
    def test_semaphore(self):
        sem = self.create_or_skip("Semaphore", 2)
        self.assertTrue(sem.acquire())
        self.assertTrue(sem.acquire())
        self.assertFalse(sem.acquire(timeout=0.1))
        sem.release()
        self.assertTrue(sem.acquire(blocking=False))

    def test_bounded_semaphore_over_release(self):
        sem = self.create_or_skip("BoundedSemaphore", 1)
        with self.assertRaises(ValueError):
            sem.release()


class BarrierTest(ServerTestCase):
    def test_barrier(self):
        barrier = self.create_or_skip("Barrier", 2)
        results = []
        t = threading.Thread(target=lambda: results.append(barrier.wait(10)))
        t.start()
        results.append(barrier.wait(10))
        t.join(10)
        self.assertEqual(sorted(results), [0, 1])

    def test_abort_breaks_barrier(self):
        barrier = self.create_or_skip("Barrier", 2)
        call_later(self, 0.2, barrier.abort)
        with self.assertRaises(threading.BrokenBarrierError):
            barrier.wait(10)


    def test_parties_n_waiting_and_broken_are_properties(self):
        barrier = self.m.Barrier(2)
        self.assertIsInstance(barrier, orch.BarrierProxy)
        self.assertEqual((barrier.parties, barrier.n_waiting, barrier.broken), (2, 0, False))
        t = threading.Thread(target=lambda: self.assertRaises(threading.BrokenBarrierError,
                                                              barrier.wait, 10))
        t.start()
        deadline = time.monotonic() + 10
        while barrier.n_waiting != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(barrier.n_waiting, 1)
        barrier.abort()
        t.join(10)
        self.assertIs(barrier.broken, True)

    def test_threading_signature(self):
        barrier = self.m.Barrier(2, None, 0.2)  # parties, action, timeout
        with self.assertRaises(threading.BrokenBarrierError):  # the barrier's timeout
            barrier.wait()
        self.assertIs(self.m.Barrier(1, action=None, timeout=5).wait(), 0)
        for call in (lambda: self.m.Barrier(2, print), lambda: self.m.Barrier(2, action=print)):
            with self.assertRaisesRegex(NotImplementedError, "orch barriers take no action"):
                call()
        named = self.m.Barrier(3, name="barrier-named")
        self.addCleanup(self.m.delete, "barrier-named")
        self.assertEqual(self.m.lookup("barrier-named").parties, named.parties)


class ConditionTest(ServerTestCase):
    def test_wait_for_runs_the_predicate_here(self):
        cond = self.m.Condition(name="cond-wait-for")
        self.addCleanup(self.m.delete, "cond-wait-for")
        self.assertIsInstance(cond, orch.ConditionProxy)
        ready = self.m.Value(False, name="cond-ready")
        self.addCleanup(self.m.delete, "cond-ready")
        other = self.server.manager()  # ownership is per session: another one notifies
        self.addCleanup(other.close)

        def setter():
            time.sleep(0.3)
            c = other.lookup("cond-wait-for")
            with c:
                other.lookup("cond-ready").value = True
                c.notify_all()
        t = threading.Thread(target=setter)
        t.start()
        with cond:
            self.assertIs(cond.wait_for(lambda: ready.value, timeout=10), True)
        t.join(10)
        start = time.monotonic()
        with cond:
            self.assertIs(cond.wait_for(lambda: not ready.value, timeout=0.3), False)
        self.assertGreaterEqual(time.monotonic() - start, 0.25)


    def test_notify(self):
        cond = self.create_or_skip("Condition")
        woke = []

        def waiter():
            with cond:
                woke.append(cond.wait(10))
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.3)
        with cond:
            cond.notify()
        t.join(10)
        self.assertEqual(woke, [True])


class StrShowsStateTest(ServerTestCase):
    """str() of a sync proxy is the server's __repr__, its state as Python's repr() shows it
    (SYNC.md); repr() stays the proxy's own, as in multiprocessing."""

    def test_locks_semaphores_and_events(self):
        lock = self.create_or_skip("Lock")
        self.assertEqual(str(lock), "<unlocked Lock object>")
        lock.acquire()
        self.assertEqual(str(lock), "<locked Lock object>")
        self.assertRegex(repr(lock), r"^<AutoProxy\[Lock\] object, typeid 'Lock' at 0x[0-9a-f]+>$")
        rlock = self.m.RLock()
        self.assertEqual(str(rlock), "<unlocked RLock object owner=None count=0>")
        rlock.acquire()
        rlock.acquire()
        self.assertRegex(str(rlock), r"^<locked RLock object owner='[0-9a-f]+' count=2>$")
        sem = self.m.Semaphore(2)
        sem.acquire()
        self.assertEqual(str(sem), "<Semaphore: value=1>")
        bounded = self.m.BoundedSemaphore(2)
        bounded.acquire()
        self.assertEqual(str(bounded), "<BoundedSemaphore: value=1/2>")
        event = self.m.Event()
        self.assertEqual(str(event), "<Event: unset>")
        event.set()
        self.assertEqual(str(event), "<Event: set>")

    def test_condition_counts_its_waiters(self):
        cond = self.m.Condition()
        self.assertEqual(str(cond), "<Condition(<unlocked RLock object owner=None count=0>, 0)>")
        other = self.server.manager()  # a waiter of another session, parked in wait
        self.addCleanup(other.close)
        theirs = other.lookup(id=cond._id)
        woke = []

        def waiter():
            with theirs:
                woke.append(theirs.wait(10))
        t = threading.Thread(target=waiter)
        t.start()
        self.addCleanup(t.join, 10)
        wait_until(lambda: str(cond).endswith(", 1)>"), 10, "the waiter to park")
        self.assertEqual(str(cond), "<Condition(<unlocked RLock object owner=None count=0>, 1)>")
        with cond:
            self.assertRegex(str(cond), r"^<Condition\(<locked RLock object owner='[0-9a-f]+' count=1>, 1\)>$")
            cond.notify()
        t.join(10)
        self.assertEqual(woke, [True])
        self.assertEqual(str(cond), "<Condition(<unlocked RLock object owner=None count=0>, 0)>")

    def test_barrier_shows_its_waiters_then_broken(self):
        barrier = self.m.Barrier(2)
        self.assertEqual(str(barrier), "<Barrier: waiters=0/2>")
        other = self.server.manager()
        self.addCleanup(other.close)
        theirs = other.lookup(id=barrier._id)
        failed = []

        def party():
            try:
                theirs.wait(10)
            except threading.BrokenBarrierError:
                failed.append(True)
        t = threading.Thread(target=party)
        t.start()
        self.addCleanup(t.join, 10)
        wait_until(lambda: str(barrier) == "<Barrier: waiters=1/2>", 10, "the party to park")
        barrier.abort()
        t.join(10)
        self.assertEqual((failed, str(barrier)), ([True], "<Barrier: broken>"))

    def test_queues_show_sizes_not_items(self):
        q = self.m.Queue(10)
        for i in range(3):
            q.put("item-%d" % i)
        self.assertEqual(str(q), "<Queue object: qsize=3 maxsize=10>")
        self.assertEqual(str(self.m.JoinableQueue()), "<JoinableQueue object: qsize=0 maxsize=0>")


class ShutdownTest(unittest.TestCase):
    """Calls parked when the server is asked to stop fail at once with 503, saying why, instead
    of holding up the stop and ending with a lost connection."""

    def setUp(self):
        self.server = OrchServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_parked_calls_get_503_when_the_server_stops(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        q, lock, event = m.Queue(), m.Lock(), m.Event()
        lock.acquire()
        failures = {}

        def park(name, call):
            try:
                call()
                failures[name] = None
            except BaseException as e:  # noqa: B902 - recorded for the assertions
                failures[name] = e

        threads = [threading.Thread(target=park, args=a) for a in (
            ("get", q.get), ("acquire", lock.acquire), ("wait", event.wait))]
        for t in threads:
            t.start()
        time.sleep(0.5)  # parked
        start = time.monotonic()
        r = self.server.cli("shutdown")
        self.assertEqual(r.returncode, 0, r.stderr)
        for t in threads:
            t.join(30)
        self.assertLess(time.monotonic() - start, 10)
        for name in ("get", "acquire", "wait"):
            e = failures.get(name)
            self.assertIsInstance(e, orch.RemoteError, "%s: %r" % (name, e))
            self.assertEqual((e.code, e.name), (503, "ShuttingDown"), name)


if __name__ == "__main__":
    unittest.main()
