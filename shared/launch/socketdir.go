package launch

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// socketDirPrefix starts the name of every plugin socket directory. The
// rest says which host made it, so that a later host can tell whether it is
// gone: "<pid>-<start>-" on Linux, where start is the host's start time in
// clock ticks since boot (base 36), which tells a reused pid apart,
// followed by "<pid namespace>-" (base 36) outside the initial pid
// namespace; then 6 random characters. Short, because the socket path
// inside must fit in 103 bytes (see maxSocketPath).
const socketDirPrefix = "secrethost-plugin-"

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path
// holds 108 bytes with the terminating NUL; macOS only 104).
const maxSocketPath = 103

// initPidNS is the inode number of the initial pid namespace
// (PROC_PID_INIT_INO), left out of names to keep them short.
const initPidNS = 0xEFFFFFFC

// socketBases are where socket directories are made, and swept.
func socketBases() []string {
	if t := filepath.Clean(os.TempDir()); t != "/tmp" {
		return []string{t, "/tmp"}
	}
	return []string{"/tmp"}
}

// makeSocketDir creates the plugin's private socket directory (0700) in the
// host's temporary directory, or in /tmp when that is too deep for a socket
// path (go-plugin names the socket "plugin" and up to 10 digits).
func makeSocketDir() (string, error) {
	var errs []error
	for _, base := range socketBases() {
		dir, err := mkdirUnique(base, socketDirPrefix+ownerTag())
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

// mkdirUnique is os.MkdirTemp with 6 random base-36 characters instead of
// up to 10 digits.
func mkdirUnique(base, prefix string) (string, error) {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	for range 1000 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		dir := filepath.Join(base, prefix+string(b[:]))
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: no unused name for a socket directory", base)
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
	tag := strconv.Itoa(o.pid) + "-" + strconv.FormatUint(o.start, 36) + "-"
	if o.pidNS != initPidNS {
		tag += strconv.FormatUint(o.pidNS, 36) + "-"
	}
	return tag
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
	o := owner{pidNS: initPidNS}
	var err error
	switch len(f) {
	case 3:
	case 4:
		if o.pidNS, err = strconv.ParseUint(f[2], 36, 64); err != nil {
			return owner{}, false
		}
	default:
		return owner{}, false
	}
	if len(f[len(f)-1]) != 6 {
		return owner{}, false
	}
	if o.pid, err = strconv.Atoi(f[0]); err != nil || o.pid <= 0 {
		return owner{}, false
	}
	if o.start, err = strconv.ParseUint(f[1], 36, 64); err != nil {
		return owner{}, false
	}
	return o, true
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
