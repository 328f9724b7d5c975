//go:build !unix

package plugin

func dropStdin() error { return nil }

func nameProcess() {}
