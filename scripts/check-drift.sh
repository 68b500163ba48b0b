#!/usr/bin/env bash
# Drift gates: committed generated files must be what their generators produce from the sources.
#   1. drizzle-kit generate (db/) must not produce a new migration: schema.ts and db/migrations agree;
#   2. npm run codegen must not change the generated resolver/operation types;
#   3. npm run compose must not change gateway/supergraph.graphql or the API schema;
#   4. npm run trusted-documents must not change gateway/trusted-documents.json;
#   5. npm run schema:check: the composed API schema has no breaking change against main's (or, on
#      main, the previous commit's) unless gateway/schema-breaking-changes.json accepts it with a
#      reason; deprecations and dangerous changes are printed (gateway/src/schema-check.ts).
# A step whose npm script does not exist is skipped. Exits 1 on any drift, naming the files.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0

has_script() {
  node -e 'process.exit(JSON.parse(require("fs").readFileSync("package.json","utf8")).scripts?.[process.argv[1]] ? 0 : 1)' "$1"
}

# The tree's state (tracked changes and untracked files) outside node_modules and .data.
snapshot() {
  { git status --porcelain=v1 --untracked-files=all; git diff; } | sha1sum
}

check() {
  local name="$1"
  shift
  local before after
  before=$(snapshot)
  echo "drift: ${name}"
  if ! "$@" >/tmp/pshub-drift-$$.log 2>&1; then
    cat /tmp/pshub-drift-$$.log
    echo "drift: ${name} FAILED to run"
    failed=1
    return
  fi
  after=$(snapshot)
  if [ "$before" != "$after" ]; then
    echo "drift: ${name} changed files; regenerate and commit them:"
    git status --porcelain=v1 --untracked-files=all
    git --no-pager diff --stat
    failed=1
  else
    echo "drift: ${name} ok"
  fi
}

generate_migrations() {
  (cd db && npx drizzle-kit generate)
}

check "drizzle-kit generate (db/migrations)" generate_migrations

if has_script codegen; then
  check "npm run codegen" npm run --silent codegen
else
  echo "drift: npm run codegen skipped (no such script)"
fi

if has_script compose; then
  check "npm run compose" npm run --silent compose
else
  echo "drift: npm run compose skipped (no such script)"
fi

if has_script trusted-documents; then
  check "npm run trusted-documents (gateway/trusted-documents.json)" npm run --silent trusted-documents
else
  echo "drift: npm run trusted-documents skipped (no such script)"
fi

if has_script schema:check; then
  echo "schema: breaking changes (npm run schema:check)"
  if ! npm run --silent schema:check; then
    echo "schema: breaking change not accepted (see above)"
    failed=1
  fi
else
  echo "schema: npm run schema:check skipped (no such script)"
fi

rm -f /tmp/pshub-drift-$$.log
exit "$failed"
