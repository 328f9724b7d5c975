package cli

import (
	"slices"
	"strings"

	"github.com/secrethost/secrethost/shared/provider"
)

// envList is an ordered environment.
type envList struct {
	names []string
	vals  map[string]string
	from  map[string]string // where each value came from
}

func newEnvList() *envList {
	return &envList{vals: map[string]string{}, from: map[string]string{}}
}

func (e *envList) set(name, value, from string) {
	if _, ok := e.vals[name]; !ok {
		e.names = append(e.names, name)
	}
	e.vals[name] = value
	e.from[name] = from
}

func (e *envList) unset(name string) {
	if _, ok := e.vals[name]; !ok {
		return
	}
	e.names = slices.DeleteFunc(e.names, func(n string) bool { return n == name })
	delete(e.vals, name)
	delete(e.from, name)
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.vals[n])
	}
	return out
}

// refScheme is provider.SchemeOf, the one schemeOf of the host, the CLI and
// the conformance kit: the lower-cased scheme of a value that looks like a
// reference, or false. Only schemes of configured providers count in the
// end.
func refScheme(v string) (string, bool) { return provider.SchemeOf(v) }

// refLike reports whether v looks like a reference (scheme://…).
func refLike(v string) bool {
	_, ok := provider.SchemeOf(v)
	return ok
}

// runEnv builds the child's environment before resolution and lists the
// candidate references: every --from entry, and every other variable that
// looks like scheme://... (checked against the configured schemes later).
func (a *app) runEnv(o runOptions) (*envList, []runRef, error) {
	env := newEnvList()
	for _, kv := range a.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		env.set(name, value, "environment")
	}
	for _, f := range o.envFiles {
		vars, err := readDotenvFile(f)
		if err != nil {
			return nil, nil, usagef("--env-file: %v", err)
		}
		for _, v := range vars {
			env.set(v.Name, v.Value, v.Where)
		}
	}
	var fromFile []refVar
	if o.from != "" {
		var err error
		if fromFile, err = readRefsFile(o.from); err != nil {
			return nil, nil, usagef("--from: %v", err)
		}
		for _, v := range fromFile {
			if !dotenvKeyPattern.MatchString(v.Name) {
				return nil, nil, usagef("--from: %s: the key is not a valid variable name (not shown): use letters, digits, '_', '.' and '-', not starting with a digit", v.Where)
			}
			env.set(v.Name, v.Value, v.Where)
		}
	}
	forced := map[string]bool{}
	for _, v := range fromFile {
		forced[v.Name] = true
	}
	var refs []runRef
	for _, n := range env.names {
		if forced[n] || refLike(strings.TrimSpace(env.vals[n])) {
			refs = append(refs, runRef{refVar: refVar{Name: n, Value: env.vals[n], Where: env.from[n]}, forced: forced[n]})
		}
	}
	return env, refs, nil
}

// runRef is a variable that may hold a reference; forced ones (from --from)
// are resolved whatever their scheme, so a typo fails instead of passing
// through.
type runRef struct {
	refVar
	forced bool
}

func readDotenvFile(path string) ([]refVar, error) {
	data, err := readFileLimited(path, maxInputFile)
	if err != nil {
		return nil, err
	}
	return parseDotenv(data, path)
}
