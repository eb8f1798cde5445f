# shellcheck shell=bash
# OCI bundles for runc inside the test VM (sourced by tests/real/run-runc.sh and bench/resize-runc.sh).
# The caller sets T (its scratch directory) before sourcing. Every container's root is the VM's own root, read-only:
# one non-recursive bind of / (the overlay vmrun chroots into), so the host's Go, runc and shell are
# there and the VM's /tmp, /run and /sys are not; runc gives /proc, /dev, a read-only /sys and, in a
# cgroup namespace of its own, a read-only /sys/fs/cgroup. Never source this on a host whose cgroups
# are not yours: runc makes a group for each container under /sys/fs/cgroup/$OCI_PARENT.

OCI_PARENT=${OCI_PARENT:-real}
OCI_WAIT_POLL=${OCI_WAIT_POLL:-0.1}

# The bind of / lies outside $T, so that removing $T can never reach into the root through it.
OCI_ROOTFS=$T.rootfs

# oci_init: the shared rootfs and runc's state directory.
oci_init() {
        if ! command -v runc >/dev/null; then
                echo "oci.sh: runc is not installed (scripts/deps installs it)" >&2
                return 1
        fi
        mkdir -p "$OCI_ROOTFS" "$T/runc" || return 1
        mountpoint -q "$OCI_ROOTFS" || mount --bind / "$OCI_ROOTFS" || {
                echo "oci.sh: cannot bind / onto $OCI_ROOTFS for the containers' root" >&2
                return 1
        }
}

# oci_runc ARGS...: runc with the state of this run.
oci_runc() { runc --root "$T/runc" "$@"; }

# oci_bundle CID LIMIT_BYTES [--bind DIR]... [--rw DIR]... [--env K=V]... -- ARGS...: writes
# $T/b-CID/config.json. DIRs are bound at the same path (read-only, or read-write with --rw): the
# build tree, which a fresh clone keeps under /tmp (not in the bound root), and any output directory.
oci_bundle() {
        local cid=$1 limit=$2
        shift 2
        mkdir -p "$T/b-$cid" || return 1
        (cd "$T/b-$cid" && rm -f config.json && runc spec) || return 1
        python3 - "$T/b-$cid/config.json" "$OCI_ROOTFS" "$OCI_PARENT/$cid" "$limit" "$@" <<'PY'
import json, os, sys

path, rootfs, cgroup, limit = sys.argv[1:5]
rest = sys.argv[5:]
binds, env = [], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp"]
if "MEMGOV_LOG_FORMAT" in os.environ:
    env.append("MEMGOV_LOG_FORMAT=" + os.environ["MEMGOV_LOG_FORMAT"])
while rest and rest[0] != "--":
    opt, val = rest[0], rest[1]
    rest = rest[2:]
    if opt == "--bind":
        binds.append((val, "ro"))
    elif opt == "--rw":
        binds.append((val, "rw"))
    elif opt == "--env":
        env.append(val)
    else:
        sys.exit("oci_bundle: unknown option " + opt)
args = rest[1:]
if not args:
    sys.exit("oci_bundle: no command after --")

c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": True}
p = c["process"]
p["terminal"] = False
p["args"] = args
p["env"] = env
p["cwd"] = "/"
lx = c["linux"]
# runc spec adds the cgroup namespace where the host has cgroup v2 (the VM); docker run does the same.
if not any(ns["type"] == "cgroup" for ns in lx["namespaces"]):
    lx["namespaces"].append({"type": "cgroup"})
lx["cgroupsPath"] = "/" + cgroup
lx.setdefault("resources", {})["memory"] = {"limit": int(limit)}
mounts = c["mounts"]
mounts.append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "nodev", "mode=1777"]})
for d, mode in binds:
    mounts.append({"destination": d, "type": "bind", "source": d, "options": ["rbind", mode]})
json.dump(c, open(path, "w"), indent=1)
PY
}

# oci_start CID: runc run in the background, its output in $T/CID.out and $T/CID.err; $! is runc's pid.
oci_start() { oci_runc run --bundle "$T/b-$1" "$1" >"$T/$1.out" 2>"$T/$1.err" </dev/null & }

# oci_pid CID: the container's init (PID 1 inside) as the VM sees it.
oci_pid() { oci_runc state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }

# oci_fini: what is left of this run (containers already stopped).
oci_fini() {
        local c
        for c in $(oci_runc list -q 2>/dev/null); do
                oci_runc kill "$c" KILL 2>/dev/null
                oci_runc delete --force "$c" 2>/dev/null
        done
        umount "$OCI_ROOTFS" 2>/dev/null && rmdir "$OCI_ROOTFS"
        rmdir "/sys/fs/cgroup/$OCI_PARENT" 2>/dev/null
        return 0
}

# wait_line FILE FROM PATTERN: the first line after line FROM that matches, once it comes, read every
# OCI_WAIT_POLL seconds. The bound (up to 120 s) only turns a hang into a named failure; nothing is timed.
wait_line() {
        local l end=$((SECONDS + 120))
        while [ $SECONDS -lt $end ]; do
                l=$(tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -m1 -E -- "$3") && {
                        echo "$l"
                        return 0
                }
                sleep "$OCI_WAIT_POLL"
        done
        return 1
}
