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
# Run it as yourself: it calls sudo for the packages. Under sudo, in a checkout root does not
# own, data and build are refused (exit 2): build/ and data/ would be root's.
#
#   packages  the Debian packages listed last that dpkg does not list as installed, with apt-get
#             (as root, or through sudo), waiting up to 10 minutes for apt's locks where
#             another apt holds them (unattended-upgrades on a new machine); one that apt
#             does not know is left out with a warning, or refused if the build needs it
#   data      datasets/fetch.sh: MNIST and USPS checked where jacnoise searches ($JACNOISE_DATA,
#             ./data, ../shared/datasets), fetched into $JACNOISE_DATA or ./data if absent;
#             if it fails, the build still runs, and setup exits 1 at the end (a relative
#             $JACNOISE_DATA is taken from where setup.sh is started, the others from the
#             checkout)
#   build     cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $JACNOISE_CMAKE_ARGS, then
#             cmake --build build -j"$(nproc)" (-DJACNOISE_CUDA=OFF in JACNOISE_CMAKE_ARGS
#             skips CUDA)
set -eu
# A relative $JACNOISE_DATA names a folder from where setup.sh was started, as jacnoise run
# there reads it, not from the checkout this moves to.
case ${JACNOISE_DATA:-} in "" | /*) ;; *) JACNOISE_DATA=$(pwd)/$JACNOISE_DATA; export JACNOISE_DATA ;; esac
cd "$(dirname "$0")/.."

# python3-matplotlib: for the plotting scripts; strace: test_reliability reads from it the
# system calls that make checkpoint writes durable; curl and ca-certificates: fetch.sh's
# HTTPS downloads (a fresh container has neither); the rest builds and tests jacnoise.
BUILD_PACKAGES="build-essential cmake pkg-config libopenblas-dev zlib1g-dev"
PACKAGES="$BUILD_PACKAGES strace curl ca-certificates python3 python3-numpy python3-torch python3-matplotlib"

LOCK_WAIT=600 # seconds

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
    # sudo refusing (a user it does not allow) or apt-get failing (offline, the lock held too
    # long) says why in its own lines; then one line says what to do. The dpkg lock is held by
    # unattended-upgrades in a new machine's first minutes: apt-get waits for it (apt >= 1.9.11;
    # an older one ignores the option).
    run_apt_get() {
        $as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$LOCK_WAIT "$@"
    }
    apt_failed() {
        echo "setup: ${as_root:+sudo }apt-get $1 failed (its lines above): fix that and run tools/setup.sh again, or install these Debian packages by hand:$missing" >&2
        exit 1
    }
    # update takes the lock of apt's lists, and install that of its downloads
    # (/var/cache/apt/archives), which DPkg::Lock::Timeout does not cover (apt 2.6 fails at
    # once while apt-daily or unattended-upgrades holds them): apt-get is retried here for as
    # long. Its errors are kept to find that lock's path in them (a path, unlike the message,
    # is not translated). A lock file it may not open ("open (13: Permission denied)", the
    # errno's number untranslated too) or on a read-only file system ("(30: Read-only file
    # system)") is no other apt's: waiting would not help.
    apt_get_waiting() {
        waited=0
        until { err=$(run_apt_get "$@" 2>&1 >&3 3>&-); } 3>&1; do
            case $err in
                *"(13:"* | *"(30:"*) held="" ;;
                *lists/lock*) held="package lists" ;;
                *archives/lock*) held="downloaded packages (/var/cache/apt/archives)" ;;
                *) held="" ;;
            esac
            if [ -z "$held" ] || [ "$waited" -ge "$LOCK_WAIT" ]; then
                printf '%s\n' "$err" >&2
                apt_failed "$1"
            fi
            [ "$waited" -gt 0 ] ||
                echo "setup: another apt holds the lock of apt's $held (unattended-upgrades?): waiting up to $((LOCK_WAIT / 60)) minutes for it"
            sleep 5
            waited=$((waited + 5))
        done
        [ -z "$err" ] || printf '%s\n' "$err" >&2 # its warnings
    }
    apt_get_waiting update -q
    # apt-get refuses the whole list for one package this release lacks (an older Ubuntu has
    # no python3-torch): the build's are then refused in one line, the others left out.
    unknown=""
    available=""
    for p in $missing; do
        if apt-cache show "$p" >/dev/null 2>&1; then available="$available $p"; else unknown="$unknown $p"; fi
    done
    for p in $unknown; do
        case " $BUILD_PACKAGES " in
            *" $p "*)
                echo "setup: apt knows no package $p, which the build needs (lacking:$unknown): install it or its equivalent by hand" >&2
                exit 1 ;;
        esac
    done
    if [ -n "$unknown" ]; then
        echo "setup: warning: apt knows no package$unknown; left out (the tests or plots that use it will fail)" >&2
    fi
    [ -n "$available" ] || return 0
    echo "setup: installing the missing Debian packages:$available (waiting up to $((LOCK_WAIT / 60)) minutes for the dpkg lock if another apt or unattended-upgrades holds it)"
    # shellcheck disable=SC2086 # one word per package
    apt_get_waiting install -y -q --no-install-recommends $available
}

data() {
    datasets/fetch.sh
}

build() {
    # Without it (a machine the packages step cannot serve, or `setup.sh build` alone), sh's
    # "cmake: not found", exit 127, named a line of this script and no way on.
    if ! command -v cmake >/dev/null 2>&1; then
        echo "setup: cmake is not installed (the build needs it and a C compiler): run tools/setup.sh packages, or install them by hand" >&2
        exit 1
    fi
    # A moved or copied checkout brings a build/ configured from the old path, which cmake
    # refuses in lines whose advice does not apply (reedit the cache, another source folder).
    if [ -f build/CMakeCache.txt ]; then
        home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' build/CMakeCache.txt)
        if [ -n "$home" ] && [ "$(cd "$home" 2>/dev/null && pwd -P)" != "$(pwd -P)" ]; then
            echo "setup: build/ was configured from $home (a moved or copied checkout): remove build/ and run tools/setup.sh again" >&2
            exit 1
        fi
    fi
    # One made by another user (a first run under sudo): cmake's errors name a temporary file
    # and an unrelated system error ("Inappropriate ioctl for device").
    if [ -d build ] && [ ! -w build ]; then
        echo "setup: build/ is not writable by you (made by another user, as by a run under sudo?): remove it (sudo rm -rf build) and run tools/setup.sh again" >&2
        exit 1
    fi
    # A checkout one cannot write (another user's, a read-only mount): cmake said only that it
    # could not create build/CMakeFiles/pkgRedirects.
    if [ ! -d build ] && [ ! -w . ]; then
        echo "setup: cannot create build/ in $(pwd): the checkout is not writable by you (another user's, or read-only): clone it into a folder of your own" >&2
        exit 1
    fi
    # shellcheck disable=SC2086 # options as separate words
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${JACNOISE_CMAKE_ARGS:-}
    cmake --build build -j"$(nproc)"
}

# Each argument one step: "*" is no step (not the checkout's file names), "" is not all three.
[ $# -gt 0 ] || set -- packages data build
for step; do
    case $step in
        packages | data | build) ;;
        -h | --help)
            sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
            echo "Debian packages: $PACKAGES"
            exit 0 ;;
        *) echo "setup: unknown step '$step' (steps: packages data build)" >&2; exit 2 ;;
    esac
done
# `sudo tools/setup.sh` in a user's checkout made build/ and data/ root's, where that user's
# next build fails; a root shell in root's own checkout (sudo -i), and CI as root without sudo,
# go on.
case " $* " in
    *" data "* | *" build "*)
        if [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$(stat -c %u .)" != 0 ]; then
            echo "setup: run as root through sudo (SUDO_USER=$SUDO_USER) in a checkout root does not own: build/ and data/ would belong to root, and $SUDO_USER's next build fail; run tools/setup.sh as $SUDO_USER (it calls sudo itself for the Debian packages)" >&2
            exit 2
        fi ;;
esac
# The build needs no data: a failed data step (a source out of reach) stops nothing after it,
# so that the program is built all the same, and is said last.
data_failed=""
for step; do
    if [ "$step" = data ]; then
        data || data_failed=yes
    else
        "$step"
    fi
done
if [ -n "$data_failed" ]; then
    echo "setup: the data step failed (see its lines above; the other steps are done): run datasets/fetch.sh again once its sources can be reached" >&2
    exit 1
fi
