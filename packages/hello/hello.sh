#!/bin/sh
# Say hello with the upstream `greet` tool, found through the bundle's runfiles.
set -eu
exec "$RUNFILES_DIR/greeting/bin/greet" "$RUNFILES_DIR/greeting/share/greeting.txt" "$@"
