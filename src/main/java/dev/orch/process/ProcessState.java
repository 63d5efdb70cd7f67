package dev.orch.process;

import java.util.Locale;

/** Lifecycle state of a managed process; {@link #wire()} is the lowercase name used in JSON. */
public enum ProcessState {
    /** Being launched; no pid yet. */
    STARTING,
    /** Alive. */
    RUNNING,
    /** Exited with code 0. */
    EXITED,
    /** Exited with a non-zero code or died of a signal. */
    FAILED,
    /** Waiting for its next restart. */
    BACKOFF,
    /** Stopped by request (stop, kill, supervisor shutdown). */
    STOPPED,
    /** Its node vanished (remote nodes only; not produced yet). */
    LOST;

    /** The name used on the wire, e.g. {@code "running"}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True while the process runs or will run again without being asked: it holds its name. */
    public boolean isLive() {
        return this == STARTING || this == RUNNING || this == BACKOFF;
    }
}
