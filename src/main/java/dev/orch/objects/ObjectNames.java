package dev.orch.objects;

import dev.orch.protocol.Characters;

/**
 * The rule for object names. A name is typed on command lines, shown in {@code orch objects} and
 * quoted in errors, so it must fit on one line and stay a handle rather than a payload.
 */
public final class ObjectNames {
    /** Longest name, in characters: room for path-like names such as {@code run-42/results/queue}. */
    public static final int MAX = 256;
    public static final String RULE = "1 to " + MAX + " characters, no control characters";

    private ObjectNames() {
    }

    /**
     * {@code s}, a name, id or typeid a client sent, as an error quotes it: as it is when it
     * could be a name, else on one line and clipped, so a 10,000-character one does not come
     * back whole.
     */
    public static String quoted(String s) {
        return isValid(s) ? s : Characters.oneLine(s, 40);
    }

    /** Whether {@code name} may name an object. */
    public static boolean isValid(String name) {
        return !name.isEmpty() && Characters.count(name) <= MAX && name.codePoints().noneMatch(Character::isISOControl);
    }
}
