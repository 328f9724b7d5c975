//go:build unix

package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkOwner demands that path be owned by root or the effective user.
func checkOwner(path, what, harm string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := int(sys.Uid)
	me := os.Geteuid()
	if uid == 0 || uid == me {
		return nil
	}
	allowed := "root"
	if me != 0 {
		allowed = "root or by " + userName(me)
	}
	return fmt.Errorf("%w: %s %s is owned by %s, not by %s, who runs secrethost, so its owner could %s; run `chown %s %s`",
		ErrUnsafe, what, path, userName(uid), allowed, harm, chownTarget(me), path)
}

func userName(uid int) string {
	s := strconv.Itoa(uid)
	if u, err := user.LookupId(s); err == nil && u.Username != "" {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return "uid " + s
}

func chownTarget(uid int) string {
	if uid == 0 {
		return "root"
	}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}
