package dev.orch.protocol;

/**
 * Text measured as the protocol counts it: in characters, that is Unicode code points, not the
 * UTF-16 units of a Java string. An emoji is one character though a string holds it as two
 * {@code char}s, and a cut between those two leaves a lone surrogate, which is not text: no
 * UTF-8 encoder can write it, and a client's decoder may refuse the frame.
 */
public final class Characters {
    private Characters() {
    }

    /** How many characters {@code s} holds. */
    public static int count(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * {@code s} if it holds at most {@code max} characters (at least 1), else its first
     * {@code max - 1} followed by {@code …}.
     */
    public static String clip(String s, int max) {
        if (s.length() <= max || count(s) <= max) {
            return s;
        }
        return s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
    }

    /**
     * {@code s} as an error message quotes what a client sent: on one line (each control
     * character a {@code ?}) and {@link #clip clipped} to {@code max} characters.
     */
    public static String oneLine(String s, int max) {
        String line = s.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return clip(line, max);
    }
}
