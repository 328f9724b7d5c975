package host

import "time"

// WithProbeTimeout shortens the grace period after a deadline, for tests.
func WithProbeTimeout(d time.Duration) Option { return func(o *options) { o.probeTimeout = d } }
