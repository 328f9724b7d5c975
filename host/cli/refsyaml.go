package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseRefsYAML reads NAME → reference pairs from YAML: the
// external_secrets mappings of a doco-cd deploy configuration (one or more
// documents), or else a flat top-level mapping. Names must be unique;
// references must be non-empty strings.
func parseRefsYAML(data []byte, filename string) ([]refVar, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s", filename, yamlError(err))
		}
		if len(n.Content) == 0 {
			continue // an empty document
		}
		docs = append(docs, n.Content[0])
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: empty file: expected a mapping of NAME: reference, or a doco-cd external_secrets mapping", filename)
	}

	// doco-cd: every document's external_secrets.
	var sections []*yaml.Node
	for _, d := range docs {
		if d.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(d.Content); i += 2 {
			if d.Content[i].Value == "external_secrets" {
				sections = append(sections, d.Content[i+1])
			}
		}
	}
	if len(sections) == 0 {
		if isDocoCD(filename, docs) {
			return nil, nil // a deployment without secrets
		}
		if len(docs) > 1 {
			return nil, fmt.Errorf("%s: several YAML documents but no external_secrets mapping in any", filename)
		}
		sections = docs
	}

	var out []refVar
	seen := map[string]string{}
	for _, sec := range sections {
		if sec.Kind == yaml.ScalarNode && sec.Tag == "!!null" {
			continue // external_secrets: (empty)
		}
		if sec.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: expected a mapping of NAME: reference, found %s", filename, sec.Line, kindName(sec))
		}
		for i := 0; i+1 < len(sec.Content); i += 2 {
			k, v := sec.Content[i], sec.Content[i+1]
			where := fmt.Sprintf("%s:%d", filename, k.Line)
			if k.Kind != yaml.ScalarNode || k.Value == "" {
				return nil, fmt.Errorf("%s: expected a variable name as key, found %s", where, kindName(k))
			}
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
				return nil, fmt.Errorf("%s: %s: expected a secret reference string, found %s", where, keyName(k.Value), kindName(v))
			}
			if prev, dup := seen[k.Value]; dup {
				return nil, fmt.Errorf("%s: %s is already defined at %s", where, keyName(k.Value), prev)
			}
			seen[k.Value] = where
			out = append(out, refVar{Name: k.Value, Value: v.Value, Where: where})
		}
	}
	return out, nil
}

// docoCDFileName matches doco-cd's deploy configuration files:
// .doco-cd.yml, .doco-cd.yaml and .doco-cd.<target>.y(a)ml.
var docoCDFileName = regexp.MustCompile(`^\.doco-cd(\.[^/]+)?\.ya?ml$`)

// docoCDKeys are deploy settings only a doco-cd configuration has.
var docoCDKeys = []string{
	"repository_url", "compose_files", "working_dir", "webhook_filter", "remove_orphans",
	"force_recreate", "force_image_pull", "auto_discover", "profiles", "destroy",
}

// isDocoCD says whether a YAML file is a doco-cd deploy configuration, by
// its name or by its settings: then only external_secrets holds
// references, and the rest (a repository URL with a token in it, say) is
// none of secrethost's business.
func isDocoCD(filename string, docs []*yaml.Node) bool {
	if docoCDFileName.MatchString(filepath.Base(filename)) {
		return true
	}
	for _, d := range docs {
		if d.Kind != yaml.MappingNode {
			continue
		}
		var name, ref bool
		for i := 0; i+1 < len(d.Content); i += 2 {
			k := d.Content[i].Value
			if slices.Contains(docoCDKeys, k) {
				return true
			}
			name = name || k == "name"
			ref = ref || k == "reference"
		}
		if name && ref {
			return true
		}
	}
	return false
}

// yamlQuoted matches what the YAML library quotes of the input in its
// messages.
var yamlQuoted = regexp.MustCompile("`[^`]*`|\"[^\"]*\"|'[^']*'")

// yamlError is the YAML library's message without any quoted input: the
// file may hold secrets where references belong.
func yamlError(err error) string {
	return yamlQuoted.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "(…)")
}

func kindName(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case n.Tag == "!!null" || n.Value == "":
		return "nothing"
	case strings.HasPrefix(n.Tag, "!!") && len(n.Tag) < 12:
		return "a " + strings.TrimPrefix(n.Tag, "!!")
	default:
		return "a tagged value"
	}
}
