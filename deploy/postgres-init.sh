#!/bin/sh
# Run once by the postgres image on an empty data folder: the plain reader login the app queries as.
# It gets no privileges here; `govdata datasets add` grants USAGE on the schema and SELECT on approved tables.
set -eu
psql -v ON_ERROR_STOP=1 -v pw="$PG_READER_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE govdata_reader LOGIN PASSWORD :'pw';
SQL
