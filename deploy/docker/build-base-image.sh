#!/usr/bin/env bash
# Builds the Python base image from Debian packages, for hosts that reach no image registry
# (air-gapped sites, CI machines behind a proxy): debootstrap of Debian 12 with python3,
# python3-venv and ca-certificates, a venv at /opt/venv first on PATH, imported as an image.
#
#   deploy/docker/build-base-image.sh [TAG]        (default local/debian-python:bookworm)
#
# Then: docker build --build-arg BASE_IMAGE=TAG ... (deploy/README.md).
#
# Needs root, debootstrap and a running docker engine. The Debian mirror is the host's own
# (its apt sources; DEBIAN_MIRROR overrides), so a site mirror keeps working offline. The host's
# local CA certificates (/usr/local/share/ca-certificates, e.g. a TLS-intercepting proxy's or a
# site's own) are copied in and pip is pointed at the system bundle: an image that carries a
# site's CA is for that site only, never publish it.
set -euo pipefail

tag=${1:-local/debian-python:bookworm}
suite=${DEBIAN_SUITE:-bookworm}

# The first URI of a Debian archive (not security, not a third-party repository) in the host's
# apt sources, one-line (sources.list) or deb822 (*.sources) format.
host_mirror() {
    local files=() f
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    awk -v suite="$suite" '
        # one-line format: deb [options] URI SUITE COMPONENTS
        /^[[:space:]]*deb[[:space:]]/ {
            i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == suite) { print $i; exit }
        }
        # deb822 format: a stanza with Types: deb, URIs: and Suites: naming the suite
        /^[[:space:]]*$/ { if (uri != "" && hit && deb) { print uri; exit } uri = ""; hit = 0; deb = 0 }
        tolower($1) == "types:" { for (j = 2; j <= NF; j++) if ($j == "deb") deb = 1 }
        tolower($1) == "uris:" { uri = $2 }
        tolower($1) == "suites:" { for (j = 2; j <= NF; j++) if ($j == suite) hit = 1 }
        END { if (uri != "" && hit && deb) print uri }
    ' "${files[@]}" | grep -v -- '-security' | head -n 1
}

# The security archive's URI, when the host has one (same formats).
host_security() {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^ ]*debian-security[^ ]*' \
        | head -n 1 || true
}

mirror=${DEBIAN_MIRROR:-$(host_mirror)}
if [ -z "$mirror" ]; then
    echo "no Debian mirror for $suite in the host's apt sources: set DEBIAN_MIRROR" >&2
    exit 1
fi
security=${DEBIAN_SECURITY_MIRROR:-$(host_security)}
command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

rootfs=$(mktemp -d /var/tmp/lbaas-base.XXXXXX)
trap 'rm -rf --one-file-system "$rootfs"' EXIT

echo "debootstrap $suite from $mirror into $rootfs" >&2
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$rootfs" "$mirror" >&2

{
    echo "deb $mirror $suite main"
    echo "deb $mirror $suite-updates main"
    [ -n "$security" ] && echo "deb $security $suite-security main"
} >"$rootfs/etc/apt/sources.list"

# The host's local CAs (a proxy's or the site's), trusted by apt, pip and Python's ssl.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi
chroot "$rootfs" update-ca-certificates >/dev/null
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"

# Debian's python3 refuses pip outside a venv (PEP 668): the image's Python is this venv.
chroot "$rootfs" python3 -m venv /opt/venv

# Smaller and deterministic: no package lists, caches or logs from the bootstrap.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
    "$rootfs"/root/.cache "$rootfs"/tmp/* "$rootfs"/dev/*

tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "debootstrap $suite from $mirror" \
    - "$tag" >/dev/null
echo "$tag"
