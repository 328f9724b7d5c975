package harden

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func process() error {
	var errs []error
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err))
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		errs = append(errs, fmt.Errorf("getrlimit(RLIMIT_CORE): %w", err))
	} else if lim.Cur != 0 {
		lim.Cur = 0
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			errs = append(errs, fmt.Errorf("setrlimit(RLIMIT_CORE, 0): %w", err))
		}
	}
	return errors.Join(errs...)
}
