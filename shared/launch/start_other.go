//go:build !linux

package launch

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}

func (p *Process) start() error {
	err := p.connect()
	go func() {
		defer close(p.exited)
		if err == nil {
			<-p.done
		}
	}()
	return err
}
