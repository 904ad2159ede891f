# Settings sourced by start_solr.sh and solr_health.sh (and by Solr's bin/solr).
SOLR_PORT="${SOLR_PORT:-8983}"
SOLR_HEAP="${SOLR_HEAP:-512m}"
SOLR_TIMEZONE="UTC"
export SOLR_PORT SOLR_HEAP SOLR_TIMEZONE
