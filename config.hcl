# secrethost configuration (HCL).
#
# This file is the built-in default ("doco-cd environment mode"): it is what
# secrethost uses when neither the --config flag nor the SECRETHOST_CONFIG
# environment variable names a file. A config.hcl in the working directory is
# never read: whoever can write there must not choose the plugins or where
# tokens go. A file that its group or others may write, or that belongs to
# another user than root or the one running secrethost, is refused, and so is
# one in a directory (at any level) like that, unless sticky. The copy at
# the repository root (config.hcl) and the embedded copy
# (host/config/default.hcl) must stay byte-identical; a test checks it.
#
# Syntax in short:
#   name = value                    an attribute; strings in "double quotes"
#   provider "label" { ... }        a block with one label
#   # or //                         a comment to the end of the line
# Functions:
#   env("NAME")                     the variable's value; an error if unset
#   env("NAME", default)            default when unset ("" or null)
#   file("path")                    the file's content without surrounding
#                                   whitespace; relative to this file's dir
#   trimspace(s), lower(s), upper(s), coalesce(a, b, ...) (first non-null)
# Values read with env() and file() are secrets, whatever they set: they never
# appear in a message or log line (the host also scrubs them from whatever the
# plugin says). Values the host reads itself for config_from_env are governed
# by the plugin's schema (its Sensitive and SecretFile attributes) instead.
# A relative path in config (an attribute the plugin declares as a path, like
# the file provider's dir or a token file) is relative to this file's
# directory; one from the environment, to the working directory.

# Directory holding the plugin binaries. A relative path is relative to the
# directory of this file. When not set, the host uses "plugins" next to its
# own executable.
# plugin_dir = "bin/plugins"

# trace, debug, info, warn, error or off. When not set, the host decides.
# log_level = "info"

# Which provider(s) to run: only providers whose "select" value equals this
# are used (doco-cd's SECRET_PROVIDER). When this attribute is absent, every
# enabled provider is used.
select = env("SECRET_PROVIDER", "")

# 1Password Connect server; used, as doco-cd decides, when any of
# SECRET_PROVIDER_CONNECT_HOST, SECRET_PROVIDER_CONNECT_TOKEN(_FILE) is set
# (one without the other then fails at start-up, naming the missing one, as
# in doco-cd). Only when none of doco-cd's variables is set do the names
# 1Password's own tools use count: OP_CONNECT_HOST, or OP_CONNECT_TOKEN
# without OP_SERVICE_ACCOUNT_TOKEN. So a leftover OP_CONNECT_HOST never
# overrides doco-cd's service account token.
provider "onepassword-connect" {
  # plugin = "onepassword-connect" # binary name inside plugin_dir; default: the label
  select = "1password"
  # The reference schemes the plugin handles: a call then starts only the
  # providers whose schemes its references use (without this attribute the
  # host starts the plugin to ask it), and a plugin that handles other
  # schemes is refused.
  schemes = ["op"]
  # What the plugin's schema says of network use: the host hands it its
  # proxy and CA settings (HTTP_PROXY, SSL_CERT_FILE, ...) at the first start
  # (without this attribute it starts the plugin to ask, and again with
  # them), and refuses a plugin whose schema says otherwise.
  network = true
  enabled = (env("SECRET_PROVIDER_CONNECT_HOST", "") != "" || env("SECRET_PROVIDER_CONNECT_TOKEN", "") != "" || env("SECRET_PROVIDER_CONNECT_TOKEN_FILE", "") != ""
    || (env("SECRET_PROVIDER_ACCESS_TOKEN", "") == "" && env("SECRET_PROVIDER_ACCESS_TOKEN_FILE", "") == ""
  && (env("OP_CONNECT_HOST", "") != "" || (env("OP_CONNECT_TOKEN", "") != "" && env("OP_SERVICE_ACCOUNT_TOKEN", "") == ""))))

  # The host fills the plugin's settings from the environment variables the
  # plugin declares in its schema (for example SECRET_PROVIDER_CONNECT_HOST).
  config_from_env = true

  # Pin the plugin binary: 64 hex characters of its SHA-256.
  # sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

  # Explicit settings. Values are strings (numbers and bools are converted);
  # an entry whose value is null is dropped, as if it were not written.
  # config = {
  #   SECRET_PROVIDER_CONNECT_HOST  = env("SECRET_PROVIDER_CONNECT_HOST", null)
  #   SECRET_PROVIDER_CONNECT_TOKEN = file("/run/secrets/op_connect_token")
  #   request_timeout               = "10s" # per attempt; retries stay within the caller's deadline
  #   max_concurrency               = 32    # requests in flight to Connect
  #   max_retries                   = 3     # of 5xx, 429, timeouts, refused or reset connections
  # }
}

# 1Password service account; used otherwise (exactly when Connect is not).
provider "onepassword-sa" {
  select = "1password"
  schemes = ["op"]
  network = true
  enabled = !(env("SECRET_PROVIDER_CONNECT_HOST", "") != "" || env("SECRET_PROVIDER_CONNECT_TOKEN", "") != "" || env("SECRET_PROVIDER_CONNECT_TOKEN_FILE", "") != ""
    || (env("SECRET_PROVIDER_ACCESS_TOKEN", "") == "" && env("SECRET_PROVIDER_ACCESS_TOKEN_FILE", "") == ""
  && (env("OP_CONNECT_HOST", "") != "" || (env("OP_CONNECT_TOKEN", "") != "" && env("OP_SERVICE_ACCOUNT_TOKEN", "") == ""))))
  config_from_env = true
}

# A third provider, reading secrets from files in a directory. It would be
# used with SECRET_PROVIDER=file (select defaults to the label).
# provider "file" {
#   plugin = "file"
#   schemes = ["file"]
#   config = { dir = "./secrets" }
# }
