# Sourced by the bench's overhead scripts (inside the test VM, as root).
# in_group MIB CMD...: CMD in a fresh group of memory.max=MIB; its exit status.
in_group() {
        local g=/sys/fs/cgroup/ovh-$$-$RANDOM mib=$1
        shift
        mkdir "$g" && echo $((mib << 20)) >"$g/memory.max" && echo 1 >"$g/memory.oom.group"
        bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' bash "$g" "$@"
        local rc=$?
        rmdir "$g"
        return $rc
}
