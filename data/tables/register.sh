#!/usr/bin/env bash
# Registers the sample approved tables (idempotent: unchanged files are skipped). Called by `make tables`.
set -euo pipefail
GOVDATA=${GOVDATA:-.venv/bin/govdata}
here=$(dirname "$0")
"$GOVDATA" datasets add "$here/beijing_pm25/beijing_pm25.csv" --describe "$here/beijing_pm25/describe.json"
"$GOVDATA" datasets add "$here/nyc311/nyc311_service_requests.csv" --name nyc311_service_requests --describe "$here/nyc311/describe.json"
"$GOVDATA" datasets add "$here/datahub_population/datapackage.json"
"$GOVDATA" datasets add "$here/datahub_gdp/datapackage.json"
"$GOVDATA" datasets add "$here/datahub_co2-ppm/datapackage.json"
for name in airports seattle-weather us-employment iowa-electricity la-riots; do
  "$GOVDATA" datasets add "$here/vega/$name.csv" --describe "$here/vega/$name.describe.json"
done
