"""The examples run as documented: address and key from the environment (ORCH_ADDRESS, and the
key file in ORCH_HOME), against the test server, not a hard-coded 127.0.0.1:55555."""
import os
import signal
import subprocess
import sys
import unittest

from tests.support import PY_ROOT, OrchServer, ServerTestCase, wait_until

EXAMPLES = PY_ROOT / "examples"


class ExamplesTest(ServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        # A server of its own: on the shared one another test's worker may host UtilityClass,
        # and then "UtilityClass is listed" would not mean the example worker is serving.
        cls.server = OrchServer().start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.cleanup()

    def env(self):
        env = self.server.env()  # ORCH_HOME holds the key; no ORCH_AUTHKEY*, no ORCH_ADDRESS
        env["ORCH_ADDRESS"] = self.server.address
        env["PYTHONFAULTHANDLER"] = "1"
        return env

    def run_example(self, *args):
        proc = subprocess.run([sys.executable, str(EXAMPLES / args[0]), *args[1:]],
                              env=self.env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.splitlines()

    def test_shared_string(self):
        out = self.run_example("shared_string.py")
        self.assertRegex(out[0], r"^<AutoProxy\[get_my_string\] object, typeid 'get_my_string'")
        # As the tutorial prints it with BaseManager: str(proxy) is the string's repr.
        self.assertEqual(out[1:], ["'educative'", "False", "Educative", "Exiting main process"])

    def test_custom_manager(self):
        self.assertEqual(self.run_example("custom_manager.py"), ["Hello", "Main process exiting"])

    def test_queue_workers(self):
        self.assertEqual(self.run_example("queue_workers.py"),
                         [str([(n, n * n) for n in range(10)]), "exit codes: [0]"])

    def test_utility_worker(self):
        # Ctrl-C as in a terminal: a build started in the background by a script inherits
        # SIGINT ignored, and Python then never raises KeyboardInterrupt.
        worker = subprocess.Popen([sys.executable, str(EXAMPLES / "utility_worker.py"), "serve"],
                                  env=self.env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

        def stop():
            if worker.poll() is None:
                worker.kill()
            worker.communicate(timeout=10)
        self.addCleanup(stop)
        self.assertEqual(worker.stdout.readline().strip(), "hosting UtilityClass; Ctrl-C to stop")
        wait_until(lambda: "UtilityClass" in {t["typeid"] for t in self.m.types()}, 30,
                   "the example worker to host UtilityClass")
        self.assertEqual(self.run_example("utility_worker.py", "call"), ["Hello"])
        worker.send_signal(signal.SIGINT)  # Ctrl-C: it stops serving and exits cleanly
        try:
            code = worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack
            _, err = worker.communicate(timeout=10)
            self.fail("the worker did not exit on SIGINT:\n" + err)
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
