#!/bin/sh
# Run Solr in the foreground (for runit or systemd) from the bundle. The bundle is
# read-only, so Solr's home, where cores keep their data, lives in $SOLR_DATA; the
# configs are refreshed there from the bundle on every start, the data is kept.
set -eu
: "${SOLR_DATA:=/var/lib/solr}"
conf="$RUNFILES_DIR/_main/packages/solr/conf"
. "$conf/solr.in.sh"
mkdir -p "$SOLR_DATA"
cp -R "$conf/solr.xml" "$conf/collection1" "$SOLR_DATA/"
exec "$RUNFILES_DIR/solr/bin/solr" start -f -p "$SOLR_PORT" -s "$SOLR_DATA" "$@"
