#!/bin/sh
# Gets the public MNIST and USPS files that jacnoise reads, each checked against its SHA-256
# sum (see datasets/README.md).
#
#   datasets/fetch.sh        for each set, checks the folder jacnoise would read it from: the
#                            first of $JACNOISE_DATA, ./data, ../shared/datasets that holds all
#                            its files. A set found nowhere is fetched into $JACNOISE_DATA if
#                            set, else ./data.
#   datasets/fetch.sh DIR    the same with DIR alone, as `jacnoise --data-dir DIR` reads it.
#                            A set name (mnist, usps) that is no folder yet is refused: both
#                            sets are always fetched.
#   datasets/fetch.sh --help this text
#
# A set already there with the right sums is not fetched again (no network needed), and the
# script says where it found it. A file is accepted as NAME.gz or uncompressed NAME (jacnoise
# reads NAME.gz when both exist); a wrong file in the folder being filled is deleted and
# fetched again. A folder to fill that is not one, cannot be created or is read-only is said
# in one line a set, before any download; a file's path that holds something else (a folder,
# say) is said to be in the way, to remove. A download goes to NAME.gz.part, renamed once its
# sum is right; Ctrl-C, SIGTERM or a hangup removes it (exit 130, 143, 129), and the folders
# this call made are removed again where they end empty. A source that cannot be reached (no network)
# is tried once, not again for the set's other files; without curl and wget, a set to download
# is said in one line. Exit status 1 if any set could not be obtained verified.
#
# JACNOISE_FETCH_FROM=BASE takes every file from BASE instead of the official sources: a local
# folder (copied: NAME.gz, or NAME where it holds that alone) or a URL prefix (file:// needs
# curl). Useful for a mirror or an offline copy. Several BASEs are separated by spaces; a value
# that names one folder whole is that folder, spaces and all. A BASE without :// that is no
# folder is refused (exit 2).
set -u

if [ $# -gt 1 ]; then
    echo "usage: datasets/fetch.sh [DIR]  (see datasets/fetch.sh --help)" >&2
    exit 2
fi
case ${1-} in
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0 ;;
    -*)
        echo "fetch.sh: $1: unknown option (it takes a DIR alone; see datasets/fetch.sh --help)" >&2
        exit 2 ;;
esac
# The folders searched, in jacnoise's order (the positional parameters), and where to fetch.
if [ $# -eq 1 ]; then
    # An empty DIR (an unset variable, say) would name the root folder's files.
    if [ -z "$1" ]; then
        echo "fetch.sh: DIR is empty (see datasets/fetch.sh --help)" >&2
        exit 2
    fi
    if [ -e "$1" ] && [ ! -d "$1" ]; then
        echo "fetch.sh: $1: not a folder" >&2
        exit 2
    fi
    # "fetch.sh usps" reads as a choice of set, but it would create ./usps and fetch both there.
    case $1 in mnist | usps) if [ ! -d "$1" ]; then
        echo "fetch.sh: $1: a set name, not a folder: fetch.sh gets both sets into DIR (write ./$1 for a new folder so named)" >&2
        exit 2
    fi ;; esac
    target=$1
elif [ -n "${JACNOISE_DATA:-}" ]; then
    # A relative name that starts with "-" would be taken for options by sha256sum, mkdir, rm.
    case $JACNOISE_DATA in -*) target=./$JACNOISE_DATA ;; *) target=$JACNOISE_DATA ;; esac
    set -- "$target" ./data ../shared/datasets
else
    target=./data
    set -- ./data ../shared/datasets
fi

# JACNOISE_FETCH_FROM is split at spaces into bases, unless it names one folder whole: a
# checkout's path, where the data may be, can hold a space. Lists of bases are split with
# IFS=$bases_ifs, then IFS is set back.
default_ifs=$IFS
bases_ifs=" "
if [ -n "${JACNOISE_FETCH_FROM:-}" ] && [ -d "$JACNOISE_FETCH_FROM" ]; then bases_ifs=""; fi

# A base of JACNOISE_FETCH_FROM without "://" is a local folder: one that is not there is said
# once, before anything is checked, not as a malformed URL for every file (curl's "(3)").
IFS=$bases_ifs
for base in ${JACNOISE_FETCH_FROM:-}; do
    IFS=$default_ifs
    case $base in *://*) continue ;; esac
    if [ ! -d "$base" ]; then
        if [ -e "$base" ]; then why="not a folder"; else why="no such folder"; fi
        echo "fetch.sh: JACNOISE_FETCH_FROM: $base: $why (give a local folder or a URL prefix such as https://HOST/PATH)" >&2
        exit 2
    fi
done
IFS=$default_ifs

# Official sources. MNIST: the mirrors that replaced yann.lecun.com (same files, same sums).
MNIST_SOURCES="https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist"
USPS_SOURCES="https://hastie.su.domains/ElemStatLearn/datasets"

# set, SHA-256 of NAME.gz (as published), SHA-256 of NAME uncompressed, NAME
FILES='mnist 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db train-images-idx3-ubyte
mnist 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 train-labels-idx1-ubyte
mnist 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 t10k-images-idx3-ubyte
mnist f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 t10k-labels-idx1-ubyte
usps 66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16 abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0 zip.train
usps 8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f 6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc zip.test'

# sha256_of PATH: the sum; fails (the tool's message on stderr) if the file cannot be read.
sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then set -- sha256sum "$1"
    elif command -v shasum >/dev/null 2>&1; then set -- shasum -a 256 "$1"
    else set -- openssl dgst -sha256 -r "$1"; fi
    line=$("$@") || return 1
    echo "${line%% *}"
}

# files SET: the "gzsum rawsum name" lines of a set.
files() { printf '%s\n' "$FILES" | sed -n "s/^$1 //p"; }

# located DIR NAME: the path jacnoise reads (DIR/NAME.gz, else DIR/NAME); fails if neither.
located() {
    if [ -f "$1/$2.gz" ]; then echo "$1/$2.gz"; elif [ -f "$1/$2" ]; then echo "$1/$2"; else return 1; fi
}

# verified PATH GZSUM RAWSUM: the file has the sum of its form (*.gz, *.gz.part: compressed);
# says what is wrong if not.
verified() {
    case $1 in *.gz | *.gz.part) want_sum=$2 ;; *) want_sum=$3 ;; esac
    # Unreadable (no permission, say): said so, not as a wrong sum of nothing.
    if ! file_sum=$(sha256_of "$1" 2>&1); then
        echo "bad     $1: cannot read it: ${file_sum##*: }" >&2
        return 1
    fi
    [ "$file_sum" = "$want_sum" ] && return 0
    echo "bad     $1: SHA-256 $file_sum, expected $want_sum" >&2
    return 1
}

# has_set DIR SET: DIR holds every file of SET (in either form).
has_set() {
    files "$2" | while read -r gz raw name; do located "$1" "$name" >/dev/null || exit 1; done
}

# set_ok DIR SET: every file of SET that jacnoise would read in DIR has the right sum.
set_ok() {
    files "$2" | { ok=0
        while read -r gz raw name; do verified "$(located "$1" "$name")" "$gz" "$raw" || ok=1; done
        exit $ok; }
}

# fetch BASE NAME OUT: copies or downloads BASE/NAME to OUT; status 2 where the host could
# not be reached at all (name not resolved, no connection: curl 5, 6, 7, 28; wget 4), 3 where
# it answered with an HTTP error (a 404, say: curl 22, wget 8). A
# transfer that stalls (under 1 KiB/s for a minute) ends too, as wget's -T read timeout ends
# it: curl alone would wait on it for as long as TCP keeps the connection.
fetch() {
    if [ -d "$1" ]; then
        cp "$1/$2" "$3"
    elif command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 --connect-timeout 20 --speed-limit 1024 --speed-time 60 -o "$3" "$1/$2" </dev/null
        case $? in 0) ;; 5 | 6 | 7 | 28) return 2 ;; 22) return 3 ;; *) return 1 ;; esac
    elif command -v wget >/dev/null 2>&1; then
        wget -q -T 20 -t 3 -O "$3" "$1/$2" </dev/null
        case $? in 0) ;; 4) return 2 ;; 8) return 3 ;; *) return 1 ;; esac
    else
        echo "fetch.sh: neither curl nor wget is installed" >&2
        return 1
    fi
}

# local_source BASES: one of the bases is a local folder (copied from, no download tool).
local_source() {
    IFS=$bases_ifs
    # shellcheck disable=SC2086 # split into bases
    set -- $1
    IFS=$default_ifs
    for base; do [ -d "$base" ] && return 0; done
    return 1
}

# add_way FILES TEXT: adds TEXT, what to do for FILES (" NAME ..." of $failed), to $way; where
# other files failed too, said for FILES by name.
add_way() {
    [ -n "$1" ] || return 0
    if [ "$1" = "$failed" ]; then set -- "$2"; else set -- "${1# }: $2"; fi
    way="${way:+$way; }$1"
}

# fill_set DIR SET: makes DIR hold a verified copy of every file of SET, keeping those
# already there, deleting wrong ones, fetching the missing NAME.gz. A DIR it cannot write
# into is said in one line before anything is fetched (not a failed download per file).
fill_set() {
    if [ -e "$1" ] && [ ! -d "$1" ]; then unusable="not a folder"
    elif ! made=$(mkdir -p "$1" 2>&1); then unusable="cannot create it (${made##*: })"
    elif [ ! -w "$1" ]; then unusable="the folder is not writable"
    else unusable=""; fi
    if [ -n "$unusable" ]; then
        echo "fetch.sh: $2: cannot fetch into $1: $unusable" >&2
        return 1
    fi
    if [ -n "${JACNOISE_FETCH_FROM:-}" ]; then sources=$JACNOISE_FETCH_FROM
    elif [ "$2" = usps ]; then sources=$USPS_SOURCES
    else sources=$MNIST_SOURCES; fi
    # A fresh system may have neither (a Debian container): one line a set, not one a file
    # and source. A set all there (a wrong file to replace) goes on, to name the wrong file.
    if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1 &&
        ! has_set "$1" "$2" && ! local_source "$sources"; then
        echo "fetch.sh: $2: cannot download it: neither curl nor wget is installed (install curl, or set JACNOISE_FETCH_FROM to a local copy)" >&2
        return 1
    fi
    files "$2" | { failed="" unreachable="" held="" mismatched="" refused="" others=""
        while read -r gz raw name; do
            got=""
            blocked=""
            stuck=""
            wrong=""
            answered=""
            while path=$(located "$1" "$name"); do
                if verified "$path" "$gz" "$raw"; then
                    echo "ok      $path (already there)"
                    got=yes
                    break
                fi
                echo "        deleting $path" >&2
                if ! rm -f "$path" || [ -e "$path" ]; then
                    echo "fetch.sh: $path: cannot delete the wrong file: remove or replace it" >&2
                    stuck=yes
                    break
                fi
            done
            if [ -z "$got" ] && [ -z "$stuck" ]; then
                IFS=$bases_ifs
                for base in $sources; do
                    IFS=$default_ifs
                    # A local folder may hold the file uncompressed alone, as jacnoise reads it.
                    form=$name.gz
                    if [ -d "$base" ] && [ ! -f "$base/$form" ] && [ -f "$base/$name" ]; then form=$name; fi
                    part=$1/$form.part
                    # Not a file (located found none), say a folder: mv would put the file in it.
                    if [ -e "$1/$form" ]; then
                        echo "fetch.sh: $1/$form: not a file, in the way: remove it" >&2
                        blocked=yes
                        break
                    fi
                    # Offline, each file would wait out the retries of every source again (after
                    # the check above: a folder in the way is said, offline too).
                    case " $unreachable " in *" $base "*) continue ;; esac
                    rm -f "$part"
                    fetch "$base" "$form" "$part"
                    fetched=$?
                    if [ $fetched -eq 2 ]; then
                        echo "failed  $base/$form: cannot reach it (no network?); the set's other files skip $base" >&2
                        unreachable="$unreachable $base"
                    elif [ $fetched -eq 3 ]; then
                        echo "failed  $base/$form: the server answered with an HTTP error" >&2
                        answered=yes
                    elif [ $fetched -ne 0 ]; then
                        echo "failed  $base/$form" >&2
                    elif ! verified "$part" "$gz" "$raw"; then
                        wrong=yes
                    elif mv "$part" "$1/$form"; then
                        echo "fetched $1/$form from $base"
                        got=yes
                        break
                    fi
                    rm -f "$part"
                done
                IFS=$default_ifs
            fi
            if [ -z "$got" ]; then
                failed="$failed $name.gz"
                if [ -n "$blocked$stuck" ]; then held="$held $name.gz"
                elif [ -n "$wrong" ]; then mismatched="$mismatched $name.gz"
                elif [ -n "$answered" ]; then refused="$refused $name.gz"
                else others="$others $name.gz"; fi
            fi
        done
        if [ -n "$failed" ]; then
            # Each cause its way on. A file held up by what is at its path (a folder, a wrong
            # file that stays; its path said above) is no matter of sources at all. Online, a
            # download that came wrong, or a server's HTTP error (a file moved: a copy on another
            # machine is not the way on), is no matter of being offline; offline, the way on is a
            # copy from elsewhere, which the official sources' names hide. Where
            # JACNOISE_FETCH_FROM already names a copy, the lines above say what went wrong.
            way=""
            case $held in *" "*" "*) it=them ;; *) it=it ;; esac
            add_way "$held" "in the way, said above: remove $it and run fetch.sh again"
            if [ -z "${JACNOISE_FETCH_FROM:-}" ]; then
                add_way "$mismatched" "a download came, with another SHA-256 than the published file's: a mirror that changed it, or a proxy rewriting downloads"
                add_way "$refused" "a server answered with an HTTP error, said above: run fetch.sh again later, or set JACNOISE_FETCH_FROM to a mirror's URL prefix"
                add_way "$others" "with a copy at hand, from another machine: set JACNOISE_FETCH_FROM to its folder and run fetch.sh again"
            fi
            echo "fetch.sh: $2: could not get a verified copy of:$failed into $1${way:+ ($way)}" >&2
            exit 1
        fi
        echo "$2: all files verified in $1"; }
}

# Stopped mid-download (Ctrl-C, SIGTERM, or a hangup: the terminal or SSH session closed): the
# partial file goes too, not left in the folder; so do the folders this call made where nothing
# came (offline, say), as at a failed end: every one mkdir -p made (a, a/b and a/b/c for a/b/c)
# that ends empty, up to made_top, the first missing one.
made_top=""
up=$target
while [ ! -e "$up" ]; do made_top=$up; up=$(dirname "$up"); done
remove_parts() {
    printf '%s\n' "$FILES" | while read -r set gz raw name; do rm -f "$target/$name.gz.part" "$target/$name.part"; done
    [ -n "$made_top" ] || return 0
    up=$target
    while rmdir "$up" 2>/dev/null && [ "$up" != "$made_top" ]; do up=$(dirname "$up"); done
}
trap 'remove_parts; exit 130' INT
trap 'remove_parts; exit 143' TERM
trap 'remove_parts; exit 129' HUP

status=0
for set in mnist usps; do
    found=""
    for dir in "$@"; do
        if has_set "$dir" "$set"; then
            found=$dir
            break
        fi
    done
    if [ -n "$found" ]; then
        # In the folder it fills, fill_set below names each wrong file (once) as it repairs it.
        if { [ "$found" = "$target" ] && set_ok "$found" "$set" 2>/dev/null; } ||
            { [ "$found" != "$target" ] && set_ok "$found" "$set"; }; then
            echo "$set: found in $found ($(files "$set" | wc -l | tr -d ' ') files, SHA-256 verified): nothing to fetch"
            continue
        fi
        if [ "$found" != "$target" ]; then
            # A folder shared read-only cannot be repaired, and a $JACNOISE_DATA that lacks the
            # set is not filled while this one holds it: DIR alone is filled.
            echo "fetch.sh: $set: jacnoise would read the wrong file(s) above from $found: remove or replace them, or fetch into a folder of your own (datasets/fetch.sh DIR) and set JACNOISE_DATA=DIR" >&2
            status=1
            continue
        fi
    fi
    fill_set "$target" "$set" || status=1
done
[ $status -eq 0 ] || remove_parts
exit $status
