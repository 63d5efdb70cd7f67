package dev.orch.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Json#repr} against CPython's {@code repr()} of the same values. */
class JsonReprTest {

    @Test
    void quotesAsPythonChoosesThem() {
        assertEquals("'ab'", Json.repr("ab"));
        assertEquals("\"it's\"", Json.repr("it's"));
        assertEquals("'a\"\\''", Json.repr("a\"'"));
        assertEquals("'back\\\\slash'", Json.repr("back\\slash"));
    }

    @Test
    void escapesWhatPythonDoesNotPrint() {
        assertEquals("'a\\nb\\tc\\r'", Json.repr("a\nb\tc\r"));
        assertEquals("'\\x00\\x7f\\xa0\\xad'", Json.repr("\u0000\u007f\u00a0\u00ad"));
        assertEquals("'\\u2028\\u200b\\ue000'", Json.repr("\u2028\u200b\ue000"));
        assertEquals("'\\U000e0001'", Json.repr(new String(Character.toChars(0xE0001))));
        assertEquals("'\\ud800'", Json.repr("\ud800"), "a lone surrogate");
    }

    @Test
    void numbersAsPythonPrintsThem() {
        assertEquals("1e+16", Json.repr(1e16), "not Java's 1.0E16");
        assertEquals("2.0", Json.repr(2.0));
        assertEquals("0.1", Json.repr(0.1));
        assertEquals("18446744073709551616", Json.repr(new java.math.BigInteger("18446744073709551616")));
        assertEquals("None", Json.repr(null));
        assertEquals("True", Json.repr(true));
    }

    @Test
    void printsWhatPythonPrints() {
        assertEquals("'é 日本 😀'", Json.repr("é 日本 😀"));
    }
}
