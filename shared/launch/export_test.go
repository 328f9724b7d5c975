package launch

// SetMaxReceive lowers the host's receive limit for a test; the returned
// func restores it.
func SetMaxReceive(n int) func() {
	old := maxReceive
	maxReceive = n
	return func() { maxReceive = old }
}
