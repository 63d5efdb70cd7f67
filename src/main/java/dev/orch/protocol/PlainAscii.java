package dev.orch.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Finds where bytes stop being plain JSON string content: ASCII that goes between quotes as it
 * is, with no escape (U+0020 to U+007F but {@code "} and {@code \}). Eight bytes at a time, as
 * {@link Utf8} checks a payload: a long string's bytes cost the parser and the generator about a
 * nanosecond each when looked at one by one, most of a 1 KiB call's JSON work.
 */
final class PlainAscii {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;

    private PlainAscii() {
    }

    /**
     * The index of the first byte of {@code b[from, to)} that is not plain (see the class), or
     * {@code to}; with {@code stopAtQuestionMark}, a {@code ?} stops it too.
     */
    static int end(byte[] b, int from, int to, boolean stopAtQuestionMark) {
        int i = from;
        for (; to - i >= 8; i += 8) {
            if (stops((long) LONGS.get(b, i), stopAtQuestionMark)) {
                break;
            }
        }
        for (; i < to; i++) {
            int c = b[i]; // signed: bytes from 0x80 are negative, below 0x20 as controls are
            if (c < 0x20 || c == '"' || c == '\\' || (stopAtQuestionMark && c == '?')) {
                return i;
            }
        }
        return to;
    }

    /**
     * Whether one of the eight bytes of {@code x} stops a plain run. Each term is exact as to
     * whether any byte matches (a borrow can mark a byte above a match, never one without one).
     */
    private static boolean stops(long x, boolean stopAtQuestionMark) {
        long quote = x ^ ('"' * ONES);
        long backslash = x ^ ('\\' * ONES);
        long found = x // from 0x80
                | (x - 0x20 * ONES) // below 0x20 (and some from 0x80, marked anyway)
                | ((quote - ONES) & ~quote)
                | ((backslash - ONES) & ~backslash);
        if (stopAtQuestionMark) {
            long question = x ^ ('?' * ONES);
            found |= (question - ONES) & ~question;
        }
        return (found & HIGH_BITS) != 0;
    }

    /**
     * Whether {@code s} is plain (see the class), given {@code latin1}, its ISO-8859-1 bytes.
     * Such bytes stand a {@code ?} for a character beyond U+00FF, so each {@code ?} is checked
     * against the string itself.
     */
    static boolean is(String s, byte[] latin1) {
        int n = latin1.length;
        int i = 0;
        while ((i = end(latin1, i, n, true)) < n) {
            if (latin1[i] != '?' || s.charAt(i) != '?') {
                return false;
            }
            i++;
        }
        return true;
    }
}
