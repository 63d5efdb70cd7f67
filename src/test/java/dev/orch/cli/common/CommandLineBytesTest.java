package dev.orch.cli.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Arguments read again as UTF-8 when an ASCII locale made them U+FFFD, and only then. */
class CommandLineBytesTest {
    static final Charset ASCII = StandardCharsets.US_ASCII;

    static List<byte[]> cmdline(String... parts) {
        StringBuilder s = new StringBuilder();
        for (String p : parts) {
            s.append(p).append('\0');
        }
        return CommandLineBytes.split(s.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The arguments as the JVM decodes them in the C locale: one U+FFFD per non-ASCII byte. */
    static String[] asJvmDecodes(String... args) {
        String[] out = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            out[i] = new String(args[i].getBytes(StandardCharsets.UTF_8), ASCII);
        }
        return out;
    }

    @Test
    void argumentsComeBackAsTyped() {
        String[] typed = {"call", "v", "set", "é😀"};
        List<byte[]> raw = cmdline("java", "-jar", "orch.jar", "call", "v", "set", "é😀");
        assertArrayEquals(typed, CommandLineBytes.recover(asJvmDecodes(typed), raw, ASCII));
    }

    @Test
    void aCommandLineThatDoesNotMatchIsLeftAlone() {
        String[] jvm = asJvmDecodes("set", "é");
        // Another process's tail, or arguments a wrapper changed: nothing is taken from it.
        assertArrayEquals(jvm, CommandLineBytes.recover(jvm, cmdline("java", "get", "é"), ASCII));
        assertArrayEquals(jvm, CommandLineBytes.recover(jvm, cmdline("java", "set", "ü€"), ASCII));
        assertArrayEquals(jvm, CommandLineBytes.recover(jvm, cmdline("é"), ASCII));
    }

    @Test
    void bytesThatAreNotUtf8StayAsDecoded() {
        byte[] latin1 = {'s', 'e', 't', 0, (byte) 0xe9, 0};
        String[] jvm = {"set", new String(new byte[] {(byte) 0xe9}, ASCII)};
        assertArrayEquals(jvm, CommandLineBytes.recover(jvm, CommandLineBytes.split(latin1), ASCII));
    }

    @Test
    void loneSurrogatesArePrintedAsEscapes() {
        assertEquals("\"a\\ud800b\"", JsonArgs.escapeLoneSurrogates("\"a\ud800b\""));
        assertEquals("\"\\udc00\\ud800\"", JsonArgs.escapeLoneSurrogates("\"\udc00\ud800\""));
        String pair = "\"é😀\"";
        assertEquals(pair, JsonArgs.escapeLoneSurrogates(pair));
        assertEquals("[\"😀\\ud83d\"]", JsonArgs.escapeLoneSurrogates("[\"😀\ud83d\"]"));
    }
}
