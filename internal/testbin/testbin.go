// Package testbin builds the project's real binaries for end-to-end tests,
// once per test process, so tests drive the same executables users run.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	root  string
)

// Root is the repository root (the directory holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles pkg (relative to the repository root, e.g.
// "./examples/file-provider") into dir/name with optional -ldflags, and
// returns the binary's path. The same build is reused within a process.
func Build(t testing.TB, dir, name, pkg, ldflags string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := dir + "\x00" + name
	if p, ok := built[key]; ok {
		return p
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[key] = out
	return out
}

// PluginDir returns a process-wide temporary plugin directory, created once
// and removed by Cleanup (call it from TestMain).
func PluginDir() string {
	mu.Lock()
	defer mu.Unlock()
	if root == "" {
		d, err := os.MkdirTemp("", "secrethost-plugins-")
		if err != nil {
			panic(fmt.Sprintf("temp dir: %v", err))
		}
		root = d
	}
	return root
}

// Cleanup removes the directory made by PluginDir.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if root != "" {
		os.RemoveAll(root)
		root = ""
	}
}
