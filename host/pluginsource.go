package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/host/plugindir"
)

// EnvPluginDir names the environment variable that sets the plugin
// directory when neither WithPluginDir (the CLI's --plugin-dir) nor the
// configuration's plugin_dir does. A relative path is relative to the
// working directory. The trust rules apply to it as to any plugin
// directory.
const EnvPluginDir = "SECRETHOST_PLUGIN_DIR"

// choosePluginDir picks the plugin directory, first of: WithPluginDir,
// the configuration's plugin_dir, $SECRETHOST_PLUGIN_DIR, "plugins" next
// to the executable; and remembers where it came from.
func (h *Host) choosePluginDir(o options, cfg *config.Config) error {
	switch {
	case o.pluginDir != "":
		h.pluginDir = o.pluginDir
		h.pluginDirFrom = o.pluginFrom
		if h.pluginDirFrom == "" {
			h.pluginDirFrom = "host.WithPluginDir"
		}
	case cfg.PluginDir != "":
		h.pluginDir = cfg.PluginDir
		h.pluginDirSecret = cfg.IsSecret("plugin_dir")
		h.pluginDirFrom = "plugin_dir in the configuration " + cfg.Describe()
	default:
		if v, ok := h.lookupEnv(EnvPluginDir); ok && v != "" {
			abs, err := filepath.Abs(v)
			if err != nil {
				return fmt.Errorf("%s=%q: %w", EnvPluginDir, v, err)
			}
			h.pluginDir = abs
			h.pluginDirFrom = "$" + EnvPluginDir
			return nil
		}
		dir, err := plugindir.DefaultDir()
		if err != nil {
			return err
		}
		h.pluginDir = dir
		h.pluginDirFrom = "the default, \"plugins\" next to the executable"
	}
	return nil
}

// PluginDirFrom says where PluginDir came from: the option or flag, the
// configuration's plugin_dir, $SECRETHOST_PLUGIN_DIR, or the default.
func (h *Host) PluginDirFrom() string { return h.pluginDirFrom }

// explainLocate adds, to an error saying that the plugin or its directory
// does not exist, which directory was searched, where that came from, and
// how to choose another.
func (h *Host) explainLocate(err error) error {
	if err == nil || !(errors.Is(err, plugindir.ErrNotFound) || errors.Is(err, fs.ErrNotExist)) {
		return err
	}
	return fmt.Errorf("%w (plugin directory %s, from %s; set --plugin-dir or $%s, or plugin_dir in a configuration file, to use another)",
		err, h.ShownPluginDir(), h.pluginDirFrom, EnvPluginDir)
}
