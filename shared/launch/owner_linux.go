package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// identify reads pid's start time from /proc/<pid>/stat (field 22) and the
// pid namespace of this process (a socket directory records its host's
// namespace; pids of another namespace mean nothing here).
func identify(pid int) owner {
	o := owner{pid: pid}
	if st, err := startTime(pid); err == nil {
		o.start = st
	}
	if link, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		// "pid:[4026531836]"
		if i, j := strings.IndexByte(link, '['), strings.IndexByte(link, ']'); i >= 0 && j > i {
			o.pidNS, _ = strconv.ParseUint(link[i+1:j], 10, 64)
		}
	}
	return o
}

var errNoProcess = errors.New("no such process")

func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errNoProcess
	}
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// from the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22 overall
}

// stale: the host that made a directory named for o is gone, for sure.
func stale(o owner) bool {
	if o.pidNS == 0 || self.pidNS == 0 || o.pidNS != self.pidNS || o.start == 0 {
		return false
	}
	st, err := startTime(o.pid)
	switch {
	case errors.Is(err, errNoProcess):
		return true // no process with that pid
	case err != nil:
		return false
	default:
		return st != o.start // the pid was reused by a later process
	}
}

func ownedByMe(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Geteuid()
}
