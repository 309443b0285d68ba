/**
 * The {@code syslet} command: {@code trace} (read a tree through the engine and report what each
 * syscall cost; the default), {@code probe} (what the engine and the filesystems support here),
 * {@code dump} (decode the ring of another process without consuming it), and {@code ring-demo}.
 */
package io.syslet.cli;
