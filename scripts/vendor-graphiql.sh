#!/usr/bin/env bash
# Re-creates api/assets/graphiql/ from the npm registry. The GraphiQL page at
# GET /graphql serves these files itself, so it works with no internet access.
set -euo pipefail
cd "$(dirname "$0")/.."
out=api/assets/graphiql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent graphiql@3.9.0 react@18.3.1 react-dom@18.3.1 >/dev/null)
for f in "$tmp"/*.tgz; do tar xzf "$f" -C "$tmp" --transform "s|^package|$(basename "$f" .tgz)|"; done
mkdir -p "$out"
gzip -9 -n -c "$tmp/graphiql-3.9.0/graphiql.min.js" >"$out/graphiql.min.js.gz"
gzip -9 -n -c "$tmp/graphiql-3.9.0/graphiql.min.css" >"$out/graphiql.min.css.gz"
gzip -9 -n -c "$tmp/react-18.3.1/umd/react.production.min.js" >"$out/react.production.min.js.gz"
gzip -9 -n -c "$tmp/react-dom-18.3.1/umd/react-dom.production.min.js" >"$out/react-dom.production.min.js.gz"
ls -l "$out"
