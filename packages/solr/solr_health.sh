#!/bin/sh
# Health check run by kiln-fetch after a restart: Solr answers on its port.
set -eu
conf="$RUNFILES_DIR/_main/packages/solr/conf"
. "$conf/solr.in.sh"
exec "$RUNFILES_DIR/solr/bin/solr" status -p "$SOLR_PORT"
