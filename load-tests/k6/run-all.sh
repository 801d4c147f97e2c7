#!/bin/sh
# Runs each scenario named in SCENARIOS (default: all four) with k6, one after the other, against
# BASE_URL / WS_URL. Exits 0 only when every scenario met its thresholds; a failing scenario does
# not stop the others. Used by docker-compose's k6 service; works the same with a local k6.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
# k6 writes handleSummary's files but creates no directories.
mkdir -p "${SUMMARY_DIR:-.}"
for scenario in ${SCENARIOS:-connect-storm timeline-push http-crud hls-viewers}; do
  script="$here/scenarios/$scenario.ts"
  if [ ! -f "$script" ]; then
    echo "run-all: no scenario $scenario ($script)" >&2
    status=1
    continue
  fi
  echo "==> k6 run $scenario"
  k6 run "$script" || status=1
done
exit $status
