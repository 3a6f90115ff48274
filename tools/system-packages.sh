#!/bin/sh
# Install the system packages a target needs, only when they are missing.
#   tools/system-packages.sh venv   -> Python's venv module (python3-venv on Debian)
#   tools/system-packages.sh test   -> OpenSSH server and client, sudo; Chromium and a font (the report's browser test);
#                                      sos with numactl and xz (the real-sosreport test: sos copies NUMA node files only
#                                      where numactl or numad is installed); busybox (the capture runs under busybox sh),
#                                      strace (the capture bench), unshare (util-linux: hugetlbfs mounts in a namespace)
#   tools/system-packages.sh report -> a Java runtime and Node.js with npm (the Allure 2 command line of `make report`)
# Works on Debian/Ubuntu (apt-get) and RHEL-likes (dnf/yum); needs root or sudo.
set -eu

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
    if command -v apt-get >/dev/null 2>&1; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    elif command -v dnf >/dev/null 2>&1; then
        as_root dnf install -y -q "$@"
    elif command -v yum >/dev/null 2>&1; then
        as_root yum install -y -q "$@"
    else
        echo "system-packages: no apt-get, dnf or yum here; install $* by hand" >&2
        exit 1
    fi
}

python=${PYTHON:-python3}
case "${1:-}" in
venv)
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then install python3-venv; else install python3; fi
    fi
    ;;
test)
    missing=
    [ -x /usr/sbin/sshd ] || missing="$missing sshd"
    command -v ssh-keygen >/dev/null 2>&1 || missing="$missing ssh-keygen"
    command -v sudo >/dev/null 2>&1 || missing="$missing sudo"
    command -v pgrep >/dev/null 2>&1 || missing="$missing pgrep"
    if [ -n "$missing" ]; then
        if command -v apt-get >/dev/null 2>&1; then
            install openssh-server openssh-client sudo procps
        else
            install openssh-server openssh-clients sudo procps-ng
        fi
    fi
    # The report's browser test renders the Allure report in headless Chromium.
    if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
        install chromium
    fi
    # The real-sosreport test makes a sosreport of this machine (`sos report`) and unpacks it with tar/xz.
    if ! command -v sos >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then install sosreport; else install sos; fi
    fi
    command -v numactl >/dev/null 2>&1 || install numactl
    if ! command -v xz >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then install xz-utils; else install xz; fi
    fi
    # The capture is tested under busybox sh too; the capture bench counts fork/exec with strace.
    command -v busybox >/dev/null 2>&1 || install busybox
    command -v strace >/dev/null 2>&1 || install strace
    command -v unshare >/dev/null 2>&1 || install util-linux
    if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ ! -e /usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf ]; then
        if command -v apt-get >/dev/null 2>&1; then install fonts-dejavu-core; else install dejavu-sans-fonts; fi
    fi
    ;;
report)
    if ! command -v java >/dev/null 2>&1 && [ ! -x "${JAVA_HOME:-/nonexistent}/bin/java" ]; then
        if command -v apt-get >/dev/null 2>&1; then install default-jre-headless; else install java-17-openjdk-headless; fi
    fi
    if ! command -v npm >/dev/null 2>&1; then
        install nodejs npm
    fi
    ;;
*)
    echo "usage: $0 venv|test|report" >&2
    exit 2
    ;;
esac
