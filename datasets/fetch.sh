#!/bin/sh
# Downloads the public MNIST and USPS files that jacnoise reads and checks each against its
# SHA-256 sum (see datasets/README.md).
#
#   datasets/fetch.sh [DIR]        DIR defaults to ./data (one of the folders jacnoise searches)
#
# Files already in DIR with the right sum are kept, so running it again is cheap. A file with a
# wrong sum is deleted; the script then tries the next source and exits non-zero if no source
# gave the right bytes.
#
# JACNOISE_FETCH_FROM=BASE takes every file from BASE instead of the official sources: a local
# folder (copied) or a URL prefix (file:// needs curl). Useful for a mirror or an offline copy.
set -u

dir=${1:-./data}

# Official sources. MNIST: the mirrors that replaced yann.lecun.com (same files, same sums).
MNIST_SOURCES="https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist"
USPS_SOURCES="https://hastie.su.domains/ElemStatLearn/datasets"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
    fi
}

# fetch BASE NAME OUT: copies or downloads BASE/NAME to OUT.
fetch() {
    if [ -d "$1" ]; then
        cp "$1/$2" "$3"
    elif command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 --connect-timeout 20 -o "$3" "$1/$2" </dev/null
    elif command -v wget >/dev/null 2>&1; then
        wget -q -T 20 -t 3 -O "$3" "$1/$2" </dev/null
    else
        echo "fetch.sh: neither curl nor wget is installed" >&2
        return 1
    fi
}

mkdir -p "$dir" || exit 1
failed=""

while read -r sum name; do
    target="$dir/$name"
    if [ -f "$target" ]; then
        if [ "$(sha256_of "$target")" = "$sum" ]; then
            echo "ok      $target (already there)"
            continue
        fi
        echo "bad     $target: SHA-256 mismatch, deleting it and fetching again" >&2
        rm -f "$target"
    fi

    if [ -n "${JACNOISE_FETCH_FROM:-}" ]; then
        sources=$JACNOISE_FETCH_FROM
    else
        case $name in
            zip.*) sources=$USPS_SOURCES ;;
            *) sources=$MNIST_SOURCES ;;
        esac
    fi

    got=""
    for base in $sources; do
        rm -f "$target.part"
        if ! fetch "$base" "$name" "$target.part"; then
            echo "failed  $base/$name" >&2
            continue
        fi
        actual=$(sha256_of "$target.part")
        if [ "$actual" = "$sum" ]; then
            mv "$target.part" "$target" || break
            echo "fetched $target from $base"
            got=yes
            break
        fi
        echo "bad     $base/$name: SHA-256 $actual, expected $sum; deleted" >&2
        rm -f "$target.part"
    done
    rm -f "$target.part"
    [ -n "$got" ] || failed="$failed $name"
done <<'EOF'
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 t10k-labels-idx1-ubyte.gz
66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16 zip.train.gz
8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f zip.test.gz
927ca750c4117b61a71def180d5e4f00f1323a4b2c9cd990f576aa8def3505f1 zip.info.txt
EOF

if [ -n "$failed" ]; then
    echo "fetch.sh: could not get a verified copy of:$failed" >&2
    exit 1
fi
echo "all files verified in $dir"
