package launch

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// seals make a memfd immutable: no writes, no resizing, no unsealing.
const seals = unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK | unix.F_SEAL_SEAL

// verify reads the binary at path once into a sealed memfd, hashes the
// sealed copy and compares it with pin; the plugin is then executed from
// that copy (/proc/self/fd/N), so the bytes that were checked are the bytes
// that run, whatever happens to path meanwhile. go-plugin's SecureConfig
// hashes path and then executes path, which a rename in between defeats.
//
// The memfd is close-on-exec: the kernel opens it for the exec before it
// closes such descriptors, so an ELF binary runs and the plugin inherits no
// descriptor of it. (A #! script would not: its interpreter opens the path
// again after the exec; checkPin refuses those.)
func verify(name, path string, pin []byte) (*verified, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// MFD_EXEC (Linux 6.3+) asks for an executable memfd explicitly, as
	// vm.memfd_noexec = 1 makes memfds non-executable by default; older
	// kernels reject the flag, and their memfds are executable anyway.
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("secrethost-plugin:"+name, flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("secrethost-plugin:"+name, flags)
	}
	if err != nil {
		hint := ""
		if errors.Is(err, unix.EACCES) {
			hint = " (vm.memfd_noexec = 2 forbids executable memfds; pinned plugins need it at 0 or 1)"
		}
		return nil, fmt.Errorf("create a sealed in-memory copy to check and run: %w%s", err, hint)
	}
	mem := os.NewFile(uintptr(fd), "memfd:"+name)
	ok := false
	defer func() {
		if !ok {
			mem.Close()
		}
	}()
	if _, err := io.Copy(mem, src); err != nil {
		return nil, fmt.Errorf("copy into memory: %w", err)
	}
	// Read and execute for its owner only (a fresh memfd is 0777, which
	// reads alarming in go-plugin's start-up diagnostics; sealed, it could
	// not be written anyway).
	if err := mem.Chmod(0o500); err != nil {
		return nil, fmt.Errorf("chmod the in-memory copy: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		return nil, fmt.Errorf("seal the in-memory copy: %w", err)
	}
	if got, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err != nil || got&seals != seals {
		return nil, fmt.Errorf("seal the in-memory copy: seals %#x, %v", got, err)
	}
	// Hash the sealed copy itself, not the bytes on their way in.
	if err := checkPin(io.NewSectionReader(mem, 0, 1<<62), pin); err != nil {
		return nil, err
	}
	execPath := fmt.Sprintf("/proc/self/fd/%d", fd)
	if _, err := os.Stat(execPath); err != nil {
		return nil, fmt.Errorf("run the in-memory copy: %w (is /proc mounted?)", err)
	}
	ok = true
	return &verified{execPath: execPath, file: mem}, nil
}
