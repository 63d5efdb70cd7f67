package dev.orch.cli.common;

import picocli.CommandLine.Option;

/** {@code -v/--verbose}: stack traces and debug detail on stderr. */
public final class VerboseOption {
    @Option(names = {"-v", "--verbose"}, description = "Show stack traces and debug detail on errors.")
    public boolean verbose;
}
