#!/bin/sh
# Prepares a fresh Debian or Ubuntu machine for jacnoise (the README's first command runs it,
# then trains): installs the Debian packages that are missing, gets the data, builds.
# Every step skips what is already done, so running it again costs a few seconds: no
# apt-get when every package is installed, no download when the data is where jacnoise
# looks for it, an incremental build.
#
#   tools/setup.sh [STEP...]    steps: packages data build (default: all three, in order)
#   tools/setup.sh --help
#
#   packages  the Debian packages below that dpkg does not list as installed, with apt-get
#             (as root, or through sudo)
#   data      datasets/fetch.sh: MNIST and USPS checked where jacnoise searches ($JACNOISE_DATA,
#             ./data, ../shared/datasets), fetched into $JACNOISE_DATA or ./data if absent
#   build     cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $JACNOISE_CMAKE_ARGS, then
#             cmake --build build (-DJACNOISE_CUDA=OFF in JACNOISE_CMAKE_ARGS skips CUDA)
set -eu
cd "$(dirname "$0")/.."

# python3-matplotlib: for the plotting scripts; strace: test_reliability reads from it the
# system calls that make checkpoint writes durable; the rest builds and tests jacnoise.
PACKAGES="build-essential cmake pkg-config libopenblas-dev zlib1g-dev strace python3 python3-numpy python3-torch python3-matplotlib"

packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "setup: no dpkg-query (not Debian or Ubuntu?): install the equivalents of: $PACKAGES" >&2
        return 0 # the build then names what is missing
    fi
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "setup: Debian packages: all installed"
        return 0
    fi
    if [ "$(id -u)" = 0 ]; then
        as_root=""
    elif command -v sudo >/dev/null 2>&1; then
        as_root=sudo
    else
        echo "setup: missing Debian packages:$missing; not root and no sudo: install them as root" >&2
        exit 1
    fi
    echo "setup: installing the missing Debian packages:$missing"
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086 # one word per package
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

data() {
    datasets/fetch.sh
}

build() {
    # shellcheck disable=SC2086 # options as separate words
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${JACNOISE_CMAKE_ARGS:-}
    cmake --build build -j"$(nproc)"
}

steps=${*:-packages data build}
for step in $steps; do
    case $step in
        packages | data | build) ;;
        -h | --help)
            sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
            exit 0 ;;
        *) echo "setup: unknown step '$step' (steps: packages data build)" >&2; exit 2 ;;
    esac
done
for step in $steps; do
    "$step"
done
