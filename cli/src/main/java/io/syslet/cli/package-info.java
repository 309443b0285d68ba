/**
 * The {@code syslet} command. For now it demonstrates the ring; the trace, probe and dump subcommands
 * arrive with the CLI issue.
 */
package io.syslet.cli;
