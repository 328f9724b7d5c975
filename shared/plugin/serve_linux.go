package plugin

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

func dup2(from, to int) error { return unix.Dup3(from, to, 0) }

// nameProcess sets the process name (comm, what ps -e, top and the kernel's
// own messages show) to the base name of argv[0]. A plugin the host runs
// from a sealed in-memory copy of a pinned binary is executed as
// /proc/self/fd/N and would otherwise be called "N"; argv[0] is the real
// path. Must run while the process is still dumpable (afterwards
// /proc/self/comm belongs to root).
func nameProcess() {
	name := filepath.Base(os.Args[0])
	if len(name) > 15 {
		name = name[:15]
	}
	if name == "" || name == "." || name == "/" {
		return
	}
	_ = os.WriteFile("/proc/self/comm", []byte(name), 0)
}
