#!/bin/sh
# Builds the pyfile plugin: one executable file, a zip application of src/
# with the interpreter line #!/usr/bin/python3 (an absolute path: the host
# starts plugins without PATH). One file, so that everything the plugin runs
# besides Python and Debian's packages is what the host checks and pins.
#   usage: build.sh OUTPUT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT}
/usr/bin/python3 - "$here/src" "$out" <<'PY'
import os, sys, zipapp
src, out = sys.argv[1], sys.argv[2]
zipapp.create_archive(src, out, interpreter="/usr/bin/python3",
                      filter=lambda p: "__pycache__" not in p.parts)
os.chmod(out, 0o755)
PY
