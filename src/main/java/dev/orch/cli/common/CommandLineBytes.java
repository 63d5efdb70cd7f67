package dev.orch.cli.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command's arguments as the UTF-8 they were typed in. In a locale without UTF-8 (LANG
 * unset or C, common in containers and cron) the JVM decodes arguments as ASCII and turns each
 * byte of "é" into U+FFFD, so {@code orch call v set é} would store garbage with exit 0. The
 * bytes are still in {@code /proc/self/cmdline}; arguments that decode there as UTF-8 are taken
 * from it instead.
 */
public final class CommandLineBytes {
    private static final Path CMDLINE = Path.of("/proc/self/cmdline");

    private CommandLineBytes() {
    }

    /** {@code args}, with those the platform's charset could not decode read again as UTF-8. */
    public static String[] recover(String[] args) {
        Charset platform = platformCharset();
        if (platform.equals(StandardCharsets.UTF_8) || !anyReplaced(args)) {
            return args;
        }
        List<byte[]> raw;
        try {
            raw = split(Files.readAllBytes(CMDLINE));
        } catch (IOException | RuntimeException e) {
            return args; // not Linux, or no /proc: the arguments stay as the JVM decoded them
        }
        return recover(args, raw, platform);
    }

    /** As {@link #recover(String[])}, from the process's raw command line (program and options first). */
    static String[] recover(String[] args, List<byte[]> raw, Charset platform) {
        int offset = raw.size() - args.length;
        if (offset < 0) {
            return args;
        }
        String[] out = args.clone();
        for (int i = 0; i < args.length; i++) {
            byte[] bytes = raw.get(offset + i);
            // Only the same argument, decoded the same way, is replaced: the JVM or a wrapper may
            // have added or dropped arguments, and then the tail of cmdline is not ours.
            if (!new String(bytes, platform).equals(args[i])) {
                return args;
            }
            String utf8 = utf8(bytes);
            if (utf8 != null) {
                out[i] = utf8;
            }
        }
        return out;
    }

    private static Charset platformCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name != null ? Charset.forName(name) : Charset.defaultCharset();
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }

    private static boolean anyReplaced(String[] args) {
        for (String a : args) {
            if (a.indexOf('\uFFFD') >= 0) {
                return true;
            }
        }
        return false;
    }

    /** The NUL-terminated strings of a cmdline file. */
    static List<byte[]> split(byte[] cmdline) {
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                parts.add(Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        if (start < cmdline.length) {
            parts.add(Arrays.copyOfRange(cmdline, start, cmdline.length));
        }
        return parts;
    }

    /** The bytes as UTF-8, or null if they are not UTF-8 (Latin-1 text stays as the JVM read it). */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
