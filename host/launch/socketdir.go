package launch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// socketDirPrefix starts the name of every plugin socket directory; the
// rest of the name says which host made it (ownerTag), then MkdirTemp's
// random digits.
const socketDirPrefix = "secrethost-plugin-"

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path
// holds 108 bytes with the terminating NUL; macOS only 104).
const maxSocketPath = 103

// socketBases are where socket directories are made, and swept.
func socketBases() []string {
	if t := os.TempDir(); t != "/tmp" {
		return []string{t, "/tmp"}
	}
	return []string{"/tmp"}
}

// makeSocketDir creates the plugin's private socket directory in the
// host's temporary directory, or in /tmp when that is too deep for a socket
// path (go-plugin names the socket "plugin" and up to 10 digits).
func makeSocketDir() (string, error) {
	var errs []error
	for _, base := range socketBases() {
		dir, err := os.MkdirTemp(base, socketDirPrefix+ownerTag())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(dir)+len("/plugin")+10 <= maxSocketPath {
			return dir, nil
		}
		os.Remove(dir)
		errs = append(errs, fmt.Errorf("%s: too long for a Unix socket path", dir))
	}
	return "", errors.Join(errs...)
}

// owner identifies a host process: its pid, and where it can be told apart
// from a later process with the same pid (Linux: the start time in clock
// ticks since boot, and the pid namespace).
type owner struct {
	pid   int
	start uint64 // 0: unknown
	pidNS uint64 // 0: unknown
}

func (o owner) tag() string {
	return fmt.Sprintf("%d-%x-%x-", o.pid, o.start, o.pidNS)
}

var (
	selfOnce sync.Once
	self     owner
)

func ownerTag() string {
	selfOnce.Do(func() { self = identify(os.Getpid()) })
	return self.tag()
}

// parseOwner reads the owner back from a socket directory's name.
func parseOwner(name string) (owner, bool) {
	rest, ok := strings.CutPrefix(name, socketDirPrefix)
	if !ok {
		return owner{}, false
	}
	f := strings.Split(rest, "-")
	if len(f) != 4 || f[3] == "" {
		return owner{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 16, 64)
	ns, err3 := strconv.ParseUint(f[2], 16, 64)
	if _, err4 := strconv.ParseUint(f[3], 10, 64); err1 != nil || err2 != nil || err3 != nil || err4 != nil || pid <= 0 {
		return owner{}, false
	}
	return owner{pid: pid, start: start, pidNS: ns}, true
}

// SweepStaleSocketDirs removes the socket directories that hosts killed
// too hard to clean up (SIGKILL, OOM) left behind: only directories named
// by this package, owned by the current user, whose host is gone. A
// directory whose host may still run, or that this process cannot judge
// (another pid namespace, an unknown start time), is left alone. Returns
// what it removed.
func SweepStaleSocketDirs(logger hclog.Logger) []string {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	ownerTag() // know ourselves
	var removed []string
	for _, base := range socketBases() {
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			o, ok := parseOwner(e.Name())
			if !ok || !e.IsDir() || !stale(o) {
				continue
			}
			dir := filepath.Join(base, e.Name())
			st, err := os.Lstat(dir)
			if err != nil || !st.IsDir() {
				continue
			}
			if !ownedByMe(st) {
				continue
			}
			if err := os.RemoveAll(dir); err != nil {
				logger.Debug("cannot remove a stale plugin socket directory", "dir", dir, "error", err)
				continue
			}
			logger.Debug("removed the socket directory of a host that is gone", "dir", dir, "host_pid", o.pid)
			removed = append(removed, dir)
		}
	}
	return removed
}
