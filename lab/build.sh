#!/usr/bin/env bash
# Build the compute lab's guest from Debian packages only, cached outside the repo.
#
#   lab/build.sh            (what `make lab` runs; prints the image directory on stdout)
#
# Output: $LAB_CACHE/images/<key>/ with vmlinuz, initrd.img, base.raw (ext4, 2 GiB sparse),
# id_lab / id_lab.pub (root's SSH key pair), ssh_host_ed25519_key.pub (the guest's only
# host key, for a strict known_hosts), modules/ (the stand-ins, also installed in the
# image) and manifest.json; $LAB_CACHE/current points at it.
# Stages are cached by a hash of their inputs, so an unchanged build takes a second:
#   rootfs  <- suite, mirror, package list            (mmdebstrap, about a minute)
#   kernel  <- linux-image-$KVER package version      (apt-get download + dpkg-deb -x)
#   image   <- everything above + lab/guest/** + lab/module/** + this script + headers version
# Knobs: LAB_CACHE (~/.cache/vrouter-preflight-lab), KVER (6.1.0-56-amd64), LAB_SUITE
# (bookworm), LAB_MIRROR (http://deb.debian.org/debian), LAB_IMAGE_SIZE (2G).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LAB_CACHE=${LAB_CACHE:-$HOME/.cache/vrouter-preflight-lab}
KVER=${KVER:-6.1.0-56-amd64}
LAB_SUITE=${LAB_SUITE:-bookworm}
LAB_MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
LAB_IMAGE_SIZE=${LAB_IMAGE_SIZE:-2G}
PACKAGES=openssh-server,python3,kmod,procps,iproute2,util-linux,ca-certificates
# Modules the initrd loads (with their dependencies) to reach the root disk and the network.
INITRD_MODULES="virtio_pci virtio_blk virtio_net ext4"

log() { printf 'lab/build: %s\n' "$*" >&2; }
hash() { sha256sum | cut -c1-16; }
mkdir -p "$LAB_CACHE"
exec 9>"$LAB_CACHE/.build.lock"
flock 9

# --- rootfs -------------------------------------------------------------------------------
rootfs_key=$(printf 'rootfs v1 %s %s %s\n' "$LAB_SUITE" "$LAB_MIRROR" "$PACKAGES" | hash)
rootfs=$LAB_CACHE/rootfs-$rootfs_key
if [ ! -e "$rootfs/.done" ]; then
    log "rootfs: mmdebstrap $LAB_SUITE minbase + $PACKAGES"
    rm -rf "$rootfs" "$rootfs.tmp"
    mmdebstrap --variant=minbase --mode=root --include="$PACKAGES" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$LAB_SUITE" "$rootfs.tmp" "$LAB_MIRROR" >&2
    chroot "$rootfs.tmp" dpkg-query -W -f '${Package} ${Version}\n' > "$rootfs.tmp/.packages"
    mv "$rootfs.tmp" "$rootfs"
    touch "$rootfs/.done"
fi

# --- kernel -------------------------------------------------------------------------------
kdeb_version=$(apt-cache show --no-all-versions "linux-image-$KVER" 2>/dev/null | sed -n 's/^Version: //p')
if [ -z "$kdeb_version" ]; then
    log "no package linux-image-$KVER in apt's lists: run apt-get update, or set KVER to an available"
    log "6.1 version (apt-cache search --names-only '^linux-image-6.1.0-[0-9]+-amd64$')"
    exit 1
fi
headers_version=$(dpkg-query -W -f '${Version}' "linux-headers-$KVER" 2>/dev/null || true)
if [ "$headers_version" != "$kdeb_version" ]; then
    log "linux-headers-$KVER ${headers_version:-not installed} != linux-image $kdeb_version: run tools/lab-packages.sh"
    exit 1
fi
kernel=$LAB_CACHE/kernel-$KVER-$kdeb_version
if [ ! -e "$kernel/.done" ]; then
    log "kernel: linux-image-$KVER $kdeb_version"
    rm -rf "$kernel" "$kernel.tmp"
    mkdir -p "$kernel.tmp/deb"
    (cd "$kernel.tmp/deb" && apt-get download -q "linux-image-$KVER=$kdeb_version" >&2)
    dpkg-deb -x "$kernel.tmp"/deb/*.deb "$kernel.tmp/root"
    depmod -b "$kernel.tmp/root" "$KVER"
    mv "$kernel.tmp" "$kernel"
    touch "$kernel/.done"
fi

# --- image --------------------------------------------------------------------------------
image_key=$( {
    printf 'image v1 %s %s %s %s %s\n' "$rootfs_key" "$KVER" "$kdeb_version" "$headers_version" "$LAB_IMAGE_SIZE"
    cat "$0"
    (cd "$here" && find guest module -type f \( -name '*.c' -o -name Makefile -o -path 'guest/*' \) | LC_ALL=C sort |
        while read -r f; do printf '%s\n' "$f"; cat "$f"; done)
} | hash)
image=$LAB_CACHE/images/$image_key
if [ -e "$image/.done" ]; then
    ln -sfn "images/$image_key" "$LAB_CACHE/current"
    log "cached: $image"
    printf '%s\n' "$image"
    exit 0
fi
log "image $image_key"
rm -rf "$image"
mkdir -p "$image"
work=$(mktemp -d "$LAB_CACHE/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# stand-in modules, built on the host against the guest's headers
cp -r "$here/module" "$work/module"
make -s -C "/lib/modules/$KVER/build" M="$work/module" modules >&2
mkdir -p "$image/modules"
cp "$work/module/vrouter.ko" "$work/module/vr_frag.ko" "$image/modules/"

# initrd: busybox-static, the modules for disk/network/ext4 in dependency order, guest/initrd-init
mkdir -p "$work/initrd"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$work/initrd/bin/busybox"
: > "$work/initrd/modules.order"
for line in $(for m in $INITRD_MODULES; do
    modprobe -d "$kernel/root" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done); do
    name=$(basename "$line")
    if ! grep -qx "$name" "$work/initrd/modules.order"; then
        cp "$line" "$work/initrd/lib/modules/$name"
        printf '%s\n' "$name" >> "$work/initrd/modules.order"
    fi
done
install -m 0755 "$here/guest/initrd-init" "$work/initrd/init"
(cd "$work/initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$image/initrd.img"
cp "$kernel/root/boot/vmlinuz-$KVER" "$image/vmlinuz"

# root filesystem: rootfs + keys + stand-ins + the stand-in modules under /lib/modules/$KVER/extra
root=$work/root
cp -a "$rootfs" "$root"
rm -f "$root/.done"
mkdir -p "$root/lib/modules/$KVER/extra"
cp "$kernel/root/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
cp "$image/modules/"*.ko "$root/lib/modules/$KVER/extra/"
depmod -b "$root" "$KVER"
ssh-keygen -q -t ed25519 -N '' -C lab-root -f "$image/id_lab"
install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$image/id_lab.pub" "$root/root/.ssh/authorized_keys"
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C lab-guest -f "$root/etc/ssh/ssh_host_ed25519_key"
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$image/ssh_host_ed25519_key.pub"
cat > "$root/etc/ssh/sshd_config.d/lab.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxSessions 64
MaxStartups 64:30:128
CONF
install -m 0755 "$here/guest/lab-init" "$root/sbin/lab-init"
install -m 0755 "$here/guest/contrail-status" "$root/usr/bin/contrail-status"
install -m 0755 "$here/guest/vrouter-reload" "$root/usr/local/sbin/vrouter-reload"
install -m 0755 "$here/guest/supervisor-vrouter" "$root/usr/local/sbin/supervisor-vrouter"
install -m 0755 "$here/guest/service" "$root/usr/local/sbin/service"
install -m 0644 "$here/guest/vrouter-standin.conf" "$root/etc/vrouter-standin.conf"
mkdir -p "$root/var/log/contrail" "$root/dev/hugepages"
printf 'lab\n' > "$root/etc/hostname"
printf '127.0.0.1 localhost lab\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw 0 1\n' > "$root/etc/fstab"
truncate -s 0 "$root/etc/machine-id"
mkfs.ext4 -q -F -L labroot -d "$root" "$image/base.raw" "$LAB_IMAGE_SIZE"

cat > "$image/manifest.json" <<JSON
{
  "key": "$image_key",
  "kver": "$KVER",
  "kernel_package_version": "$kdeb_version",
  "suite": "$LAB_SUITE",
  "rootfs": "$rootfs_key",
  "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
cp "$rootfs/.packages" "$image/packages.txt"
touch "$image/.done"
ln -sfn "images/$image_key" "$LAB_CACHE/current"
# keep the 3 newest images and any image a recorded guest still boots from
in_use=$(cat "$LAB_CACHE"/run/*/guest.json 2>/dev/null || true)
ls -1dt "$LAB_CACHE"/images/*/ | tail -n +4 | while read -r old; do
    old=${old%/}
    case $in_use in *"$old"*) ;; *) log "pruning old image $old"; rm -rf "$old" ;; esac
done
log "built: $image"
printf '%s\n' "$image"
