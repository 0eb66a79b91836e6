#!/bin/busybox sh
# domu-serve.sh PORT — a test server in the QEMU test's domU (dom0-net.sh
# runs it over qvm-run, in a qube or in a network namespace of one):
# busybox nc listening on PORT for ever (-ll), answering "hello PORT" to
# each connection, in a session of its own. Returns once the port listens
# (30 s at most; status 1 and the listening sockets otherwise), so that the
# caller's command has not ended while the server was still starting.
port=${1:?usage: domu-serve.sh PORT}
case $port in '' | *[!0-9]*) echo "domu-serve: '$port' is not a port" >&2; exit 2 ;; esac
setsid nc -ll -p "$port" -e sh -c "echo hello $port" </dev/null >/dev/null 2>&1 &
i=0
until netstat -ltn 2>/dev/null | grep -q ":$port "; do
  if [ $i -ge 150 ]; then
    echo "domu-serve: nothing listens on $port after 30 s:" >&2
    netstat -ltn >&2
    exit 1
  fi
  sleep 0.2
  i=$((i + 1))
done
