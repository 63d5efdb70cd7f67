package dev.orch.process;

import dev.orch.protocol.OrchException;
import java.util.Locale;

/** When a process that ended on its own is started again. */
public enum RestartPolicy {
    NEVER, ON_FAILURE, ALWAYS;

    /** Parses {@code never}, {@code on-failure} or {@code always}; 400 otherwise. */
    public static RestartPolicy parse(String text) {
        if (text == null) {
            return NEVER;
        }
        switch (text.toLowerCase(Locale.ROOT)) {
            case "never":
                return NEVER;
            case "on-failure":
            case "on_failure":
                return ON_FAILURE;
            case "always":
                return ALWAYS;
            default:
                throw OrchException.badRequest("restart must be never, on-failure or always, not '" + text + "'");
        }
    }

    /** Whether a process that exited with {@code exitCode} (not by request) is restarted. */
    public boolean restartsAfter(int exitCode) {
        return this == ALWAYS || (this == ON_FAILURE && exitCode != 0);
    }

    public String wire() {
        return this == ON_FAILURE ? "on-failure" : name().toLowerCase(Locale.ROOT);
    }
}
