package cli

import (
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// refVar is one NAME → value pair read from a file or the command line, with
// where it came from for messages.
type refVar struct {
	Name  string
	Value string
	// Where is "file:line", "argument N" or "environment".
	Where string
}

// readRefsFile reads NAME → reference pairs from a --from file:
//
//   - a doco-cd deploy configuration (.doco-cd.yml): the external_secrets
//     mapping of every YAML document in the file;
//   - any other YAML file: a flat mapping NAME: reference;
//   - a dotenv file: NAME=reference lines (see parseDotenv).
//
// Files named *.yml or *.yaml are YAML, files named .env, *.env or .env.*
// are dotenv; anything else is YAML if it parses as a YAML mapping and
// dotenv otherwise.
func readRefsFile(path string) ([]refVar, error) {
	data, err := readFileLimited(path, maxInputFile)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case ext == ".yml" || ext == ".yaml":
		return parseRefsYAML(data, path)
	case ext == ".env" || name == ".env" || strings.HasPrefix(name, ".env."):
		return parseDotenv(data, path)
	}
	if looksLikeYAMLMapping(data) {
		return parseRefsYAML(data, path)
	}
	return parseDotenv(data, path)
}

func looksLikeYAMLMapping(data []byte) bool {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || len(n.Content) == 0 {
		return false
	}
	return n.Content[0].Kind == yaml.MappingNode
}
