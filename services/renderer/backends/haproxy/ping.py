"""PING health monitors: the constant wrapper script haproxy's external check runs.

haproxy 2.6 has no check of host reachability, so a PING monitor is, as in Octavia, an external
check: haproxy forks and runs `external-check command` with the arguments
`<proxy_address> <proxy_port> <server_address> <server_port>` and HAPROXY_SERVER_ADDR et al. in
a fresh environment (PATH is "" unless `external-check path` sets it); exit status 0 means up.

The script's text is the same for every load balancer: no user value is ever written into it.
The monitor's timeout travels in the file name (`ping-wrapper-<seconds>s.sh`, the seconds a
checked integer), because haproxy passes a check nothing per backend but the command's path;
the script takes the number back from its own name ($0) and checks it again.
"""

from __future__ import annotations

from services.renderer.domain import filters

# Executable by haproxy's user; readable by anyone (it holds no secret).
SCRIPT_MODE = 0o755
MAX_TIMEOUT_SECONDS = 24 * 3600
_PREFIX = "ping-wrapper-"
_SUFFIX = "s.sh"

SCRIPT = b"""#!/bin/sh
# PING health check run by haproxy (option external-check); rendered by the lbaas haproxy
# renderer, the same text for every load balancer. haproxy runs it as
#   conf/ping-wrapper-<seconds>s.sh <proxy_addr> <proxy_port> <server_addr> <server_port>
# with HAPROXY_SERVER_ADDR set as well. Exit 0: the server answered one echo request within
# <seconds>; anything else marks the check failed.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL

# The timeout, from this file's name.
seconds=${0##*/}
seconds=${seconds#ping-wrapper-}
seconds=${seconds%s.sh}
case $seconds in
    '' | 0* | *[!0-9]*) exit 3 ;;
esac
[ "${#seconds}" -le 5 ] && [ "$seconds" -le 86400 ] || exit 3

# The server address: an IPv4 or IPv6 address in numeric form, never an option or a name.
addr=${HAPROXY_SERVER_ADDR:-${3:-}}
case $addr in
    *:*:*)
        case $addr in *[!0-9A-Fa-f:.]*) exit 3 ;; esac
        [ "${#addr}" -le 45 ] || exit 3
        family=-6
        ;;
    *)
        case $addr in '' | .* | *. | *..* | *[!0-9.]*) exit 3 ;; esac
        saved_ifs=$IFS
        IFS=.
        set -- $addr
        IFS=$saved_ifs
        [ "$#" -eq 4 ] || exit 3
        for octet in "$@"; do
            case $octet in 0?* | ????*) exit 3 ;; esac
            [ "$octet" -le 255 ] || exit 3
        done
        family=-4
        ;;
esac

ping=$(command -v ping) || exit 4
case $ping in /*) ;; *) exit 4 ;; esac
exec "$ping" -n -q -c 1 -W "$seconds" "$family" -- "$addr" >/dev/null 2>&1
"""


def wrapper_path(timeout_seconds: int, field: str) -> str:
    """The companion file (relative to the rendered tree) for a monitor with this timeout."""
    seconds = filters.int_range(timeout_seconds, field, 1, MAX_TIMEOUT_SECONDS)
    return filters.relative_file(f"{_PREFIX}{seconds}{_SUFFIX}", field)
