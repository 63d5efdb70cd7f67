package dev.orch.cli.common;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files named by options, checked before anything starts or connects. */
public final class OptionFiles {
    private OptionFiles() {
    }

    /**
     * A usage error naming {@code option} unless {@code file} (if given) is a readable regular
     * file: {@code cannot read --tls-ca /x: no such file}.
     */
    public static void requireReadable(String option, Path file) {
        if (file == null || (Files.isRegularFile(file) && Files.isReadable(file))) {
            return;
        }
        String why = Files.isDirectory(file) ? "it is a directory"
                : !Files.exists(file) ? "no such file"
                : !Files.isRegularFile(file) ? "not a regular file" : "permission denied";
        throw CliException.usage("cannot read " + option + " " + file + ": " + why);
    }
}
