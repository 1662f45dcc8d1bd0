#!/bin/busybox sh
# The parent of one container, as containerd-shim is: it outlives the kubelet (which starts it in its
# own session) and records how the container ended, which only a parent can learn.
#
#   shim.sh STATE_DIR HOSTNAME -- PROGRAM ARGS...
#
# The container gets its own PID, mount (with its own /proc), IPC and, with a HOSTNAME, UTS
# namespace: PROGRAM is PID 1 there, so, as in any container, a SIGTERM it has no handler for does
# nothing, and when it exits the kernel ends everything it left behind. busybox's unshare passes a
# child's death by signal on (exit 128+N); STATE_DIR/exit receives that status.
dir=$1
host=$2
shift 3
if [ -n "$host" ]; then
  /bin/busybox unshare -p -f -m --mount-proc -i -u -- /bin/busybox sh -c '/bin/busybox hostname "$0" && exec "$@"' "$host" "$@" &
else
  /bin/busybox unshare -p -f -m --mount-proc -i -- "$@" &
fi
echo "$!" > "$dir/unshare.pid"
wait "$!"
code=$?
echo "$code" > "$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"
