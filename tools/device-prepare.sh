#!/usr/bin/env bash
# Prepares, on a machine with the network and the data, what tools/gpu-check.sh needs on a GPU
# machine that has CUDA, CMake and Python but maybe neither the build's Debian packages nor
# the data, and cannot download anything: it fills device/ (ignored by git; sent along with
# the checkout) with
#   device/data/  the MNIST and USPS files, copied from DATA_DIR, else from where jacnoise run
#                 in the current folder finds them (the first of $JACNOISE_DATA, ./data and
#                 ../shared/datasets that holds all six);
#   device/debs/  the .deb files of OpenBLAS (headers, library and its Fortran runtime) and of
#                 zlib's headers (apt-get download: Debian's own packages, unpacked there only
#                 when the machine lacks the headers).
# It prints the total size: the device tool carries at most 64 MiB.
#
#   tools/device-prepare.sh [DATA_DIR]
#   tools/device-prepare.sh --help
set -euo pipefail
files="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz \
zip.train.gz zip.test.gz"
# Arguments are answered before device/ is touched: "--help" taken for DATA_DIR used to fill it.
usage_error() {
    echo "device-prepare: $* (usage: tools/device-prepare.sh [DATA_DIR])" >&2
    exit 2
}
case ${1-} in
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0 ;;
    -*) usage_error "'$1': unknown option" ;;
esac
[ $# -le 1 ] || usage_error "$# arguments: it takes at most one"
given=""
if [ $# = 1 ]; then  # a DATA_DIR given is used or refused, never passed over for another folder
    for f in $files; do
        [ -f "$1/$f" ] || usage_error "DATA_DIR '$1' lacks $f"
    done
    given=$(cd "$1" && pwd)  # named from where it was given, used from the checkout
fi
# The data: DATA_DIR, else where jacnoise looks, from the current folder as it reads them (the
# checkout's data/ was looked for instead of ./data, wherever the script was run from).
data=""
tried=""
for d in "$given" "${JACNOISE_DATA:-}" ./data ../shared/datasets; do
    [ -n "$d" ] || continue
    lacks=""
    for f in $files; do [ -f "$d/$f" ] || lacks=${lacks:-$f}; done
    if [ -z "$lacks" ]; then data=$(cd -- "$d" && pwd); break; fi
    [ "$d" != "${JACNOISE_DATA:-}" ] || d="\$JACNOISE_DATA=$d"
    tried="$tried${tried:+, }$d (lacks $lacks)"
done
if [ -z "$data" ]; then
    echo "device-prepare: no folder holds all six MNIST and USPS files; tried $tried (give DATA_DIR, or run datasets/fetch.sh)" >&2
    exit 1
fi
cd "$(dirname "$0")/.."
out=device
# Made once the data is found: no empty device/ left where it is not.
mkdir -p "$out/data" "$out/debs"
for f in $files; do cp "$data/$f" "$out/data/"; done
[ -f "$data/SHA256SUMS" ] && cp "$data/SHA256SUMS" "$out/data/"

# The packages: OpenBLAS's pthread flavour (what libopenblas-dev selects by default) with its
# runtime dependencies that a CUDA image may lack, and zlib's headers (every system has libz).
packages="libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0 zlib1g-dev"
# Downloaded beside device/debs and swapped in whole: a failed download keeps the last set.
fresh=$(mktemp -d "$out/debs.XXXXXX")
trap 'rm -rf "$fresh"' EXIT
(cd "$fresh" && apt-get download $packages)
rm -f "$out"/debs/*.deb
mv "$fresh"/*.deb "$out/debs/"
du -sh "$out/data" "$out/debs"
bytes=$(du -sb "$out" | cut -f1)
if [ "$bytes" -gt $((64 << 20)) ]; then
    echo "device-prepare: $out is $bytes bytes, over the 64 MiB the device tool carries" >&2
    exit 1
fi
echo "device-prepare: $out ready ($((bytes >> 20)) MiB): carry it with the checkout and run tools/gpu-check.sh there"
