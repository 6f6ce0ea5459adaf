#!/usr/bin/env bash
# Runs one client test script (Node, ESM) against a fresh `kasten serve`:
#   run_client_test.sh KASTEN_BIN SCRIPT [serve args...]
# Starts `kasten serve --port 0 --embedder hashing` on a new data dir (plus the given args), waits for it, runs
# `node SCRIPT` with KASTEN_URL (http://127.0.0.1:PORT), KASTEN_BIN and KASTEN_DATA_DIR set, then stops the server.
# The script's exit code is the test's; the server log is printed when it fails.
set -euo pipefail
bin="$1"; script="$2"; shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -d "$here/node_modules/openai" ]]; then
    echo "client libraries missing: run scripts/install_clients.sh (scripts/setup.sh does)" >&2
    exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/kasten-client.XXXXXX")"
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
"$bin" serve --data-dir "$work/data" --port 0 --port-file "$work/port" --embedder hashing "$@" 2>"$work/server.log" &
pid=$!
for _ in $(seq 300); do
    [[ -s "$work/port" ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "kasten serve exited early" >&2; exit 1; }
    sleep 0.1
done
[[ -s "$work/port" ]] || { cat "$work/server.log" >&2; echo "kasten serve did not start in 30 s" >&2; exit 1; }
export KASTEN_URL="http://127.0.0.1:$(cat "$work/port")" KASTEN_BIN="$bin" KASTEN_DATA_DIR="$work/data"
export NODE_PATH="$here/node_modules"
status=0
(cd "$here" && node "$script") || status=$?
if ((status != 0)); then
    echo "---- kasten serve log ----" >&2
    tail -n 100 "$work/server.log" >&2
fi
exit "$status"
