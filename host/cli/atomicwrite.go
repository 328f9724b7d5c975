package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// bind-mounted into a container) is an error saying what to do.
func writeFileAtomic(path string, data []byte, mode fs.FileMode, keepMode bool) (err error) {
	target, old, err := outputTarget(path)
	if err != nil {
		return err
	}
	uid, gid := -1, -1
	if old != nil {
		if st, ok := old.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
		if keepMode {
			mode = old.Mode().Perm()
		}
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".secrethost-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if uid >= 0 {
		if err = tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("cannot give the new content the owner and group of the file it replaces (%d:%d): %w", uid, gid, err)
		}
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, target); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("%s is busy (EBUSY): it is most likely a single file bind-mounted into this container or namespace, and a mount point cannot be replaced by a rename; mount the directory that holds it instead of the file itself, or write to a file in a mounted directory: %w", target, err)
		}
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: the rename itself has happened
		d.Close()
	}
	return nil
}

// fdPath matches paths that name an open file descriptor.
var fdPath = regexp.MustCompile(`^/(dev/(stdin|stdout|stderr|fd/)|proc/(self|thread-self|[0-9]+)/fd/)`)

// outputTarget is the regular file that writing path replaces: path
// itself, or the file a chain of symbolic links at path leads to. old
// describes it if it exists.
func outputTarget(path string) (target string, old fs.FileInfo, err error) {
	cur, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	var fi fs.FileInfo
	for hops := 0; ; hops++ {
		if fdPath.MatchString(cur) {
			return "", nil, errors.New("it names an open file descriptor, not a file; to write to standard output, leave out -o")
		}
		fi, err = os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist) && hops == 0:
			return cur, nil, nil // a new file
		case errors.Is(err, fs.ErrNotExist):
			return "", nil, fmt.Errorf("it is a symbolic link that does not lead to a file (%s does not exist)", cur)
		case err != nil:
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		if hops >= 40 {
			return "", nil, errors.New("too many levels of symbolic links")
		}
		next, err := os.Readlink(cur)
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(next) {
			next = filepath.Join(filepath.Dir(cur), next)
		}
		cur = filepath.Clean(next)
	}
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		return cur, fi, nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "not a regular file"
	}
	if abs, _ := filepath.Abs(path); abs != cur {
		return "", nil, fmt.Errorf("it leads to %s (%s); inject writes regular files only (leave out -o to write to standard output)", what, cur)
	}
	return "", nil, fmt.Errorf("it is %s; inject writes regular files only (leave out -o to write to standard output)", what)
}
