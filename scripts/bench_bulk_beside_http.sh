#!/bin/bash
# Interactive load beside a bulk import on one server: `kasten serve` on a fresh data dir (GloVe), `kasten bench
# http --url` with 200 keep-alive clients (30 % adds, 70 % searches), and beside it one bulk loader
# (scripts/bulk_loader.mjs) posting 10-turn sessions to another cube as fast as the server takes them — as
# background adds ("background": true), as interactive ones, or none. Prints the bench's JSON path and one summary
# line. Needs build/kasten, node, and the GloVe vectors (scripts/setup.sh).
# usage: scripts/bench_bulk_beside_http.sh background|foreground|none [SECONDS=30] [OUT=bench-bulk-MODE.json]
#        (BULK_CONNECTIONS=N: the loader posts on N connections at once; default 1)
set -euo pipefail
mode=${1:?usage: $0 background|foreground|none [SECONDS] [OUT]}
secs=${2:-30}
out=${3:-bench-bulk-$mode.json}
case $mode in background | foreground | none) ;; *) echo "mode must be background, foreground or none" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
kasten=$root/build/kasten
glove=${KASTEN_GLOVE:-$HOME/.local/share/kasten/embeddings/glove-6b-100d.kvec}
[ -x "$kasten" ] || { echo "build kasten first (scripts/setup.sh)" >&2; exit 1; }
[ -f "$glove" ] || { echo "GloVe vectors not found at $glove (scripts/setup.sh fetches them)" >&2; exit 1; }
dir=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/data/embeddings"
ln -s "$glove" "$dir/data/embeddings/glove-6b-100d.kvec"
"$kasten" serve --data-dir "$dir/data" --port 0 --port-file "$dir/port" --embedder glove \
    --max-connections-per-client 0 > "$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
[ -s "$dir/port" ] || { cat "$dir/serve.log" >&2; exit 1; }
port=$(cat "$dir/port")
loader=
if [ "$mode" != none ]; then
    node "$root/scripts/bulk_loader.mjs" "$port" "$mode" $((secs + 4)) "${BULK_CONNECTIONS:-1}" > "$dir/bulk.json" &
    loader=$!
    sleep 2  # the import in full swing before the interactive load starts
fi
"$kasten" bench http --url "http://127.0.0.1:$port" --clients 200 --seconds "$secs" --json --out "$out" > /dev/null
bulk='{}'
if [ -n "$loader" ]; then
    wait "$loader"
    bulk=$(cat "$dir/bulk.json")
fi
node -e '
const fs = require("fs");
const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const b = JSON.parse(process.argv[3]);
const L = d.latency, k = d.kinds;
console.log(`${process.argv[2]}: ${Math.round(d.throughput_rps)} req/s, p50 ${L.p50_ms.toFixed(0)} ms, p99 ` +
  `${L.p99_ms.toFixed(0)} ms (search ${k.search.latency.p99_ms.toFixed(0)}, add ${k.add.latency.p99_ms.toFixed(0)}), ` +
  `errors ${d.errors}, missing ${d.verify.missing}; bulk ${b.turns_per_s ? b.turns_per_s.toFixed(0) + " turns/s" : "none"}`);
' "$out" "$mode" "$bulk"
echo "numbers: $out"
