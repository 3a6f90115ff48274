#!/bin/sh
# Install the host packages the compute lab (lab/, `make lab`) needs, only when missing.
#   tools/lab-packages.sh            -> qemu, mmdebstrap, busybox-static, kmod, cpio, zstd, e2fsprogs,
#                                       openssh-client, gcc/make and the guest kernel's headers
# KVER (default 6.1.0-56-amd64) names the guest kernel; its headers are installed on the host,
# its image is only downloaded into the lab cache by lab/build.sh. Debian/Ubuntu only (apt-get).
set -eu

KVER=${KVER:-6.1.0-56-amd64}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v apt-get >/dev/null 2>&1; then
    echo "lab-packages: the lab is built from Debian packages and needs apt-get" >&2
    exit 1
fi

missing=
need() { # need PACKAGE: add it unless dpkg says it is installed
    if ! dpkg-query -W -f '${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $1"
    fi
}
for pkg in qemu-system-x86 qemu-utils mmdebstrap busybox-static kmod cpio zstd e2fsprogs \
    openssh-client make gcc libc6-dev bc "linux-headers-$KVER"; do
    need "$pkg"
done

if [ -n "$missing" ]; then
    echo "lab-packages: installing$missing" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
