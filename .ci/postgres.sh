# Sourced by .ci/run: chooses the Postgres the tests run against and says which, and why.
# - A cluster of the machine (pg_lsclusters): its own port, started if it is down; used when it
#   answers and lets `postgres` in without a password (exports DATABASE_URL).
# - Otherwise (none installed, it does not start, or it wants a password): embedded Postgres
#   (DATABASE_URL unset), with one line saying why.
# CI_PG_WAIT_SECONDS (default 30) bounds the wait for a cluster that is starting.
ci_choose_postgres() {
  local wait="${CI_PG_WAIT_SECONDS:-30}" line version cluster port status url error
  unset DATABASE_URL
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "no Postgres cluster installed (pg_lsclusters not found): tests use embedded Postgres"
    return 0
  fi
  # An online cluster if there is one, else the newest.
  line=$(pg_lsclusters -h 2>/dev/null | awk '$4 ~ /^online/' | sort -V | tail -n 1)
  [ -n "$line" ] || line=$(pg_lsclusters -h 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$line" ]; then
    echo "no Postgres cluster found by pg_lsclusters: tests use embedded Postgres"
    return 0
  fi
  read -r version cluster port status _ <<<"$line"
  if [[ "$status" != online* ]]; then
    echo "starting the Postgres ${version}/${cluster} cluster (port ${port})"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start ||
      echo "pg_ctlcluster could not start ${version}/${cluster}"
  fi
  for ((i = 0; i < wait; i++)); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 1
  done
  url="postgres://postgres@127.0.0.1:${port}/postgres"
  if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "Postgres ${version}/${cluster} does not answer on port ${port}: falling back to embedded Postgres"
    return 0
  fi
  if ! error=$(psql "$url" -Atqc 'select 1' 2>&1 >/dev/null </dev/null); then
    echo "Postgres ${version}/${cluster} on port ${port} refused postgres without a password (${error//$'\n'/ }): falling back to embedded Postgres"
    return 0
  fi
  export DATABASE_URL="$url"
  echo "tests use ${DATABASE_URL} (cluster ${version}/${cluster})"
}
