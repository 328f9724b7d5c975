package launch

import (
	"os/exec"
	"runtime"
	"syscall"
)

func setParentDeathSignal(cmd *exec.Cmd) {
	// SIGKILL the plugin when the host dies, even by SIGKILL, where no
	// cleanup code of ours can run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// start forks from a goroutine locked to its OS thread and keeps that
// thread alive until the plugin exits: Linux delivers the parent-death
// signal when the forking *thread* ends, and Go may retire an idle thread
// at any time, which would kill a healthy plugin.
func (p *Process) start() error {
	errc := make(chan error, 1)
	go func() {
		defer close(p.exited)
		runtime.LockOSThread()
		// Never unlocked: when this goroutine returns, Go ends the thread,
		// which is what we want once the plugin is gone.
		err := p.connect()
		errc <- err
		if err == nil {
			<-p.done
		}
	}()
	return <-errc
}
