package dev.orch.cli.common;

import picocli.CommandLine.Option;

/** {@code -o table|json|wide}: how results are printed on stdout. */
public final class OutputOptions {
    /** Output formats. */
    public enum Format { table, wide, json }

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    public Format format;

    public boolean json() {
        return format == Format.json;
    }

    public boolean wide() {
        return format == Format.wide;
    }
}
