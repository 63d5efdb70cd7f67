package dev.orch.cli;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start an orderly stop instead of the JVM's shutdown, so the server can close
 * connections, stop its children and exit 0.
 */
final class StopSignals {
    private StopSignals() {
    }

    static void onStop(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> action.run());
            } catch (IllegalArgumentException e) {
                // Signal not available here (or reserved by the VM): the default handling stays.
            }
        }
    }
}
