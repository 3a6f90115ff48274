#!/bin/sh
# Stand-in for a vRouter reload command (tests only).
# Usage: reload.sh OBSERVED_FILE [SECONDS [AGENT_LOG [AGENT_LINE]]]
# Records the 1G pools it sees from inside the reload ("node nr free" per node)
# to OBSERVED_FILE.tmp and renames it to OBSERVED_FILE, sleeps SECONDS, and
# appends AGENT_LINE (e.g. an assertion) to AGENT_LOG when both are given.
observed=$1
seconds=${2:-0}
for d in /sys/devices/system/node/node*/hugepages/hugepages-1048576kB; do
    node=${d#/sys/devices/system/node/node}
    node=${node%%/*}
    printf '%s %s %s\n' "$node" "$(cat "$d/nr_hugepages")" "$(cat "$d/free_hugepages")"
done > "$observed.tmp"
date +%s.%N >> "$observed.tmp"
mv "$observed.tmp" "$observed"
sleep "$seconds"
if [ -n "$3" ] && [ -n "$4" ]; then
    printf '%s\n' "$4" >> "$3"
fi
echo "stand-in reload done"
