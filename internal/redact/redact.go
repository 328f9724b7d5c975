// Package redact is the one place that defines how secrethost marks a
// secret it removed from text, and how short a value may be before it is
// no longer looked for. There are two pairs, on purpose:
//
//   - Mark and MinLen, for secrethost's own words: the host scrubs
//     configured secrets (tokens, values read with env() or file(), the
//     content of token files) out of errors, logs and diagnoses (host), the
//     plugin-path errors (host/plugindir) and the conformance kit looks for
//     leaks with the same threshold (shared/providertest). A false match
//     there costs a word of an error message, so a short threshold is
//     right, and the mark is part of message text that tests and users read.
//     ConfigMark is the same thing inside an HCL diagnostic of config.hcl,
//     in the words HCL itself uses for a sensitive value there.
//
//   - RunMark and RunMinLen, for `secrethost run` (host/cli/mask.go): it
//     rewrites the output of the user's own program with values resolved
//     for it, often short and ordinary (a port, "true", a user name), so
//     it needs a longer threshold, and a mark that says who changed the
//     output.
package redact

const (
	// Mark replaces a configured secret in secrethost's messages and logs.
	Mark = "<redacted>"
	// ConfigMark replaces a value read with env() or file() in a
	// config.hcl diagnostic.
	ConfigMark = "(sensitive value)"
	// MinLen is the shortest value scrubbed from messages: shorter ones
	// would turn ordinary words and digits into marks, and no real token is
	// this short. It applies to a whole value and to each line of a
	// multi-line one alike.
	MinLen = 4

	// RunMark replaces a secret value in the output of `secrethost run`.
	RunMark = "<concealed by secrethost>"
	// RunMinLen is the shortest value `secrethost run` masks: a shorter one
	// (a port number, a one-letter flag) would turn ordinary output into
	// marks while protecting next to nothing.
	RunMinLen = 6
)
