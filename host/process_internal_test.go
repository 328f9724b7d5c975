package host

import (
	"reflect"
	"testing"
)

// TestProcessHasOneProvider: a host's process reaches the plugin through
// one Provider, the one behind the redaction layer; the plugin's raw client
// (launch.Process.Client) has another name, so no field shadows another
// and nothing can pick the unredacted client by mistake.
func TestProcessHasOneProvider(t *testing.T) {
	var paths []string
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Name == "Provider" {
				paths = append(paths, path+f.Name)
			}
			if f.Anonymous {
				walk(f.Type, path+f.Name+".")
			}
		}
	}
	walk(reflect.TypeOf(process{}), "process.")
	if len(paths) != 1 || paths[0] != "process.Provider" {
		t.Errorf("fields named Provider: %v, want only process.Provider (the redacted client)", paths)
	}
	if _, ok := reflect.TypeOf(process{}).FieldByName("Client"); !ok {
		t.Errorf("process has no promoted Client (launch.Process's raw client)")
	}
}
