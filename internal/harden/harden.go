// Package harden keeps a process that holds tokens and secrets out of core
// dumps: on Linux it marks the process non-dumpable (PR_SET_DUMPABLE 0: no
// core file, no core-dump pipe handler, and no ptrace or /proc/<pid>/mem
// access by other processes of the same user) and sets the soft
// RLIMIT_CORE to 0. Elsewhere it does nothing.
//
// The dumpable flag is reset by execve, so every process has to do this
// itself: the secrethost host (its main, and host.New for embedders) and
// every plugin (through plugin.Serve). The soft core limit is inherited by
// children; the hard limit is left alone, so a child (say the command of
// `secrethost run`) may raise it again for itself.
package harden

// Process hardens the calling process; safe to call more than once.
func Process() error { return process() }
