package dev.orch.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 checking of frame payloads (RFC 3629). The JSON parser decodes some invalid forms
 * (an overlong {@code C0 AF} becomes {@code /}) instead of refusing them, and a name or address
 * must have one spelling only.
 */
final class Utf8 {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8() {
    }

    /** Whether {@code b[off, off+len)} is well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
    static boolean wellFormed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            // ASCII, the usual payload, eight bytes at a time.
            if (end - i >= 8 && (((long) LONGS.get(b, i)) & HIGH_BITS) == 0) {
                i += 8;
                continue;
            }
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
                continue;
            }
            int more;
            int lo = 0x80;
            int hi = 0xbf;
            if (c >= 0xc2 && c <= 0xdf) {
                more = 1;
            } else if (c >= 0xe0 && c <= 0xef) {
                more = 2;
                if (c == 0xe0) {
                    lo = 0xa0; // below: overlong
                } else if (c == 0xed) {
                    hi = 0x9f; // above: UTF-16 surrogates
                }
            } else if (c >= 0xf0 && c <= 0xf4) {
                more = 3;
                if (c == 0xf0) {
                    lo = 0x90; // below: overlong
                } else if (c == 0xf4) {
                    hi = 0x8f; // above: past U+10FFFF
                }
            } else {
                return false; // 80..C1 (continuation or overlong lead), F5..FF
            }
            if (end - i <= more) {
                return false;
            }
            int second = b[i + 1] & 0xff;
            if (second < lo || second > hi) {
                return false;
            }
            for (int k = 2; k <= more; k++) {
                int next = b[i + k] & 0xff;
                if (next < 0x80 || next > 0xbf) {
                    return false;
                }
            }
            i += more + 1;
        }
        return true;
    }
}
