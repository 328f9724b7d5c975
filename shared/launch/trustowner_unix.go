//go:build unix

package launch

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
	return refuse("%s %s is owned by %s, neither root nor the user running secrethost (%s), so its owner could %s; run `chown %s %s`",
		what, shellQuote(path), userName(uid), userName(me), harm, chownTarget(me), shellQuote(path))
}

func userName(uid int) string {
	s := strconv.Itoa(uid)
	if u, err := user.LookupId(s); err == nil && u.Username != "" {
		return fmt.Sprintf("uid %d (%s)", uid, u.Username)
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
