package dev.orch.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the server takes its key from, and what it refuses to trust; real files, real modes. */
class AuthKeysTest {
    @TempDir
    Path dir;

    @Test
    void aKeyFileLargerThanAnyKeyIsRefusedWithoutReadingItAll() throws Exception {
        Path big = dir.resolve("big");
        Files.write(big, new byte[AuthKeys.MAX_KEY_BYTES + 1]);
        AuthKeys.KeyException e = assertThrows(AuthKeys.KeyException.class, () -> AuthKeys.read(big));
        assertTrue(e.getMessage().contains("is larger than 65536 bytes"), e.getMessage());
        Files.write(big, new byte[AuthKeys.MAX_KEY_BYTES]);
        assertEquals(AuthKeys.MAX_KEY_BYTES, AuthKeys.read(big).length);
        // Endless: read whole, it ended in OutOfMemoryError and a stack trace from any command.
        Path zero = Path.of("/dev/zero");
        if (Files.isReadable(zero)) {
            assertThrows(AuthKeys.KeyException.class, () -> AuthKeys.read(zero));
        }
    }

    @Test
    void aGeneratedHomeIsPrivateWhateverTheUmask() throws Exception {
        Path home = dir.resolve("a").resolve("home");
        AuthKeys.Resolved r = new AuthKeys(Map.of(AuthKeys.ENV_HOME, home.toString())).forServer(null);
        assertTrue(r.generated());
        // The JVM's umask cannot be set from here; the mode is asked for explicitly, so only a
        // umask that takes the owner's own bits could change it.
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("authkey"))));
    }

    @Test
    void aKeyInADirectoryEveryoneMayWriteIsRefusedUnlessTheDirectoryIsSticky() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"));
        Path key = Files.writeString(open.resolve("key"), "k1");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        AuthKeys keys = new AuthKeys(Map.of(AuthKeys.ENV_KEY_FILE, key.toString(), AuthKeys.ENV_HOME, dir.toString()));
        AuthKeys.KeyException e = assertThrows(AuthKeys.KeyException.class, () -> keys.forServer(null));
        assertTrue(e.getMessage().contains("chmod 700 " + open), e.getMessage());
        // A client may still use it: it is the server that would run a planted key's commands.
        assertArrayEquals("k1".getBytes(StandardCharsets.UTF_8), keys.forClient(null).key());

        // /tmp's way: everyone may write, no one may replace another's file.
        assertEquals(0, new ProcessBuilder("chmod", "1777", open.toString()).start().waitFor());
        assertArrayEquals("k1".getBytes(StandardCharsets.UTF_8), keys.forServer(null).key());
    }

    @Test
    void theHomeKeyMustBeOwnedByTheServersUser() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home"));
        Path key = Files.writeString(home.resolve("authkey"), "planted");
        AuthKeys keys = new AuthKeys(Map.of(AuthKeys.ENV_HOME, home.toString()));
        assertArrayEquals("planted".getBytes(StandardCharsets.UTF_8), keys.forServer(null).key(), "our own file");
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim());
        if (root) {
            // Only root can give a file away; elsewhere the refusal is left untested here.
            assertEquals(0, new ProcessBuilder("chown", "65534", key.toString()).start().waitFor());
            AuthKeys.KeyException e = assertThrows(AuthKeys.KeyException.class, () -> keys.forServer(null));
            assertTrue(e.getMessage().contains("belongs to uid 65534"), e.getMessage());
            // Named explicitly elsewhere (a Kubernetes secret is root's), another user's key is taken.
            Path secret = Files.writeString(Files.createDirectory(dir.resolve("secret")).resolve("key"), "planted");
            assertEquals(0, new ProcessBuilder("chown", "65534", secret.toString()).start().waitFor());
            AuthKeys named = new AuthKeys(Map.of(AuthKeys.ENV_KEY_FILE, secret.toString(), AuthKeys.ENV_HOME, home.toString()));
            assertArrayEquals("planted".getBytes(StandardCharsets.UTF_8), named.forServer(null).key());
        }
    }

    @Test
    void keyCopiesArePrivateAndThoseOfDeadProcessesAreSwept() throws Exception {
        Path copy = AuthKeys.privateCopy("secret".getBytes(StandardCharsets.UTF_8));
        try {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)));
            assertEquals("secret", Files.readString(copy));
            assertTrue(copy.getFileName().toString().startsWith("orch-authkey-" + ProcessHandle.current().pid() + "-"));

            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Path stale = Files.writeString(copy.resolveSibling("orch-authkey-" + gone.pid() + "-x1"), "old");
            Path other = Files.writeString(copy.resolveSibling("orch-authkey-notapid"), "keep");
            AuthKeys.sweepCopies(copy.getParent());
            assertFalse(Files.exists(stale), "a dead process's copy stays");
            assertTrue(Files.exists(copy), "a live process's copy went");
            assertTrue(Files.exists(other), "a file that is not a copy went");
            Files.delete(other);
        } finally {
            Files.deleteIfExists(copy);
        }
    }
}
