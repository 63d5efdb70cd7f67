package dev.orch.auth;

import dev.orch.protocol.AuthProofs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * Finds the shared auth key the way every orch command does: {@code --authkey-file}, else
 * {@code ORCH_AUTHKEY}, else the file named by {@code ORCH_AUTHKEY_FILE}, else
 * {@code $ORCH_HOME/authkey} (default {@code ~/.orch/authkey}). Only the server creates the last
 * one when it is missing.
 */
public final class AuthKeys {
    public static final String ENV_KEY = "ORCH_AUTHKEY";
    public static final String ENV_KEY_FILE = "ORCH_AUTHKEY_FILE";
    public static final String ENV_HOME = "ORCH_HOME";

    private final Map<String, String> env;

    public AuthKeys(Map<String, String> env) {
        this.env = env;
    }

    public static AuthKeys fromEnvironment() {
        return new AuthKeys(System.getenv());
    }

    /** A resolved key and where it came from (a file path, or null for the environment). */
    public static final class Resolved {
        private final byte[] key;
        private final Path file;
        private final boolean generated;

        Resolved(byte[] key, Path file, boolean generated) {
            this.key = key;
            this.file = file;
            this.generated = generated;
        }

        public byte[] key() {
            return key.clone();
        }

        /** The key file, or null when the key came from {@code ORCH_AUTHKEY}. */
        public Path file() {
            return file;
        }

        /** True when the server has just created the key file. */
        public boolean generated() {
            return generated;
        }
    }

    /** The orch home directory: {@code $ORCH_HOME} or {@code ~/.orch}. */
    public Path home() {
        String h = env.get(ENV_HOME);
        if (h != null && !h.isBlank()) {
            return Paths.get(h);
        }
        return Paths.get(System.getProperty("user.home"), ".orch");
    }

    public Path defaultKeyFile() {
        return home().resolve("authkey");
    }

    /**
     * Resolves the key for a client; fails if none is found.
     *
     * @param explicitFile the file of {@code --authkey-file}, or null; errors about it name the option
     */
    public Resolved forClient(Path explicitFile) throws KeyException {
        Resolved r = find(explicitFile);
        if (r == null) {
            throw new KeyException("no auth key: pass --authkey-file, set " + ENV_KEY + " or " + ENV_KEY_FILE
                    + ", or start the server on this machine first (it creates " + defaultKeyFile() + ")");
        }
        return r;
    }

    /**
     * Resolves the key for the server, creating {@code $ORCH_HOME/authkey} if no key is configured.
     *
     * @param explicitFile the file of {@code --authkey-file}, or null; errors about it name the option
     */
    public Resolved forServer(Path explicitFile) throws KeyException {
        Resolved r = find(explicitFile);
        if (r == null) {
            return generate(defaultKeyFile());
        }
        if (r.file() != null) {
            refuseReplaceable(r.file(), r.file().equals(defaultKeyFile().toAbsolutePath()));
        }
        return r;
    }

    /**
     * Refuses a key file that someone else could have put there: one in a directory that every
     * user may write to (without the sticky bit that keeps them from replacing others' files),
     * or, for {@code $ORCH_HOME/authkey}, which the server itself creates, one that belongs to
     * another user. Whoever plants the key the server uses can run commands as the server's user.
     * (A key named by the environment or an option may belong to another user: Kubernetes mounts
     * secrets owned by root.)
     */
    static void refuseReplaceable(Path file, boolean mustBeOurs) throws KeyException {
        Path dir = file.toAbsolutePath().getParent();
        try {
            if (dir != null) {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
                boolean sticky = (((Number) Files.getAttribute(dir, "unix:mode")).intValue() & 01000) != 0;
                if (mode.contains(PosixFilePermission.OTHERS_WRITE) && !sticky) {
                    throw new KeyException("refusing auth key file " + file + ": every user of this machine can replace it, as "
                            + dir + " is writable by all (" + PosixFilePermissions.toString(mode) + "); chmod 700 " + dir);
                }
            }
            if (mustBeOurs) {
                int owner = ((Number) Files.getAttribute(file, "unix:uid")).intValue();
                int us = ((Number) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")).intValue();
                if (owner != us) {
                    throw new KeyException("refusing auth key file " + file + ": it belongs to uid " + owner
                            + ", not to this user (uid " + us + "); remove it to have a new one generated, or name a key"
                            + " with --authkey-file or " + ENV_KEY_FILE);
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            // No POSIX attributes or /proc here: nothing to check with.
        }
    }

    /**
     * Creates {@code dir} and its missing parents readable by this user alone, whatever the umask:
     * the orch home holds the key, logs and start-up files, and a home others may write to would
     * let them plant a key of their own.
     */
    public static void createPrivateDirectories(Path dir) throws IOException {
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }

    private static final String COPY_PREFIX = "orch-authkey-";

    /**
     * Writes {@code key} to a new file only this user can read, for child processes to be given
     * as {@code ORCH_AUTHKEY_FILE} instead of the key itself. The file goes when this JVM exits
     * normally; copies that killed orch processes left behind (their pid, in the name, is gone)
     * are removed here.
     */
    public static Path privateCopy(byte[] key) throws IOException {
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        sweepCopies(tmp);
        Path f = Files.createTempFile(tmp, COPY_PREFIX + ProcessHandle.current().pid() + "-", "",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(f, key);
        f.toFile().deleteOnExit();
        return f;
    }

    /** Removes key copies in {@code dir} whose orch process is gone (those of others are left alone). */
    static void sweepCopies(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                String n = f.getFileName().toString();
                if (!n.startsWith(COPY_PREFIX)) {
                    return;
                }
                String rest = n.substring(COPY_PREFIX.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? "" : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    return;
                }
                if (ProcessHandle.of(pid).isEmpty()) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        // Another user's copy, in a sticky directory: not ours to remove.
                    }
                }
            });
        } catch (IOException | RuntimeException e) {
            // The sweep is a courtesy: a copy is still written.
        }
    }

    private Resolved find(Path explicitFile) throws KeyException {
        if (explicitFile != null) {
            return new Resolved(read(explicitFile, "--authkey-file"), explicitFile.toAbsolutePath(), false);
        }
        String k = env.get(ENV_KEY);
        if (k != null && !k.isEmpty()) {
            return new Resolved(k.getBytes(StandardCharsets.UTF_8), null, false);
        }
        String f = env.get(ENV_KEY_FILE);
        if (f != null && !f.isEmpty()) {
            Path p = Paths.get(f);
            return new Resolved(read(p), p.toAbsolutePath(), false);
        }
        Path d = defaultKeyFile();
        if (Files.exists(d)) {
            return new Resolved(read(d), d.toAbsolutePath(), false);
        }
        return null;
    }

    /** The largest key file read, in bytes; a generated key is 44. */
    public static final int MAX_KEY_BYTES = 65536;

    /** Reads a key file: its bytes without one trailing newline (LF or CRLF). */
    public static byte[] read(Path file) throws KeyException {
        return read(file, "auth key file");
    }

    /** {@link #read(Path)}, with errors that call the file {@code what} (an option's name). */
    private static byte[] read(Path file, String what) throws KeyException {
        if (Files.isDirectory(file)) {
            throw new KeyException("cannot read " + what + " " + file + ": it is a directory");
        }
        byte[] b;
        // Bounded: /dev/zero or a log file given by mistake would otherwise fill the heap.
        try (java.io.InputStream in = Files.newInputStream(file)) {
            b = in.readNBytes(MAX_KEY_BYTES + 1);
        } catch (IOException e) {
            throw new KeyException("cannot read " + what + " " + file + ": " + describe(e));
        }
        if (b.length > MAX_KEY_BYTES) {
            throw new KeyException(what + " " + file + " is larger than " + MAX_KEY_BYTES + " bytes: not a key file");
        }
        int n = b.length;
        if (n > 0 && b[n - 1] == '\n') {
            n--;
            if (n > 0 && b[n - 1] == '\r') {
                n--;
            }
        }
        if (n == 0) {
            throw new KeyException(what + " " + file + " is empty");
        }
        return Arrays.copyOf(b, n);
    }

    /**
     * A warning when every user of this machine can read {@code file}: whoever reads the key can
     * log in as any client, and the server runs their commands. Null when the file is private
     * enough (group-readable is allowed: Kubernetes mounts secrets for the pod's group) or its
     * mode cannot be read.
     */
    public static String exposureWarning(Path file) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.OTHERS_READ)) {
                return "auth key file " + file + " can be read by every user of this machine (" + PosixFilePermissions.toString(mode)
                        + "): whoever reads it can use this server; make it private with chmod 600 " + file;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // No POSIX modes here (or the file went away): nothing to say.
        }
        return null;
    }

    private static Resolved generate(Path file) throws KeyException {
        // 32 random bytes written as base64 text, so the file can be copied and pasted safely.
        byte[] key = AuthProofs.b64(AuthProofs.nonce()).getBytes(StandardCharsets.US_ASCII);
        try {
            createPrivateDirectories(file.getParent());
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            }
            Files.write(file, key, StandardOpenOption.TRUNCATE_EXISTING);
            return new Resolved(key, file.toAbsolutePath(), true);
        } catch (FileAlreadyExistsException e) {
            // Another server created it first: use theirs.
            return new Resolved(read(file), file.toAbsolutePath(), false);
        } catch (IOException e) {
            throw new KeyException("cannot create auth key file " + file + ": " + describe(e));
        }
    }

    /**
     * Why a file operation failed, in words ({@code no such file}, {@code permission denied},
     * {@code not a directory}): file-system exceptions carry only the path as their message.
     */
    public static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException) {
            String reason = ((java.nio.file.FileSystemException) e).getReason();
            if (reason != null) {
                return reason.toLowerCase(java.util.Locale.ROOT);
            }
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** The key could not be found, read or created. */
    public static final class KeyException extends Exception {
        public KeyException(String message) {
            super(message);
        }
    }
}
