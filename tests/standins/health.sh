#!/bin/sh
# Stand-in for a vRouter health command (tests only).
# Usage: health.sh COUNTER_FILE SUCCEED_ON_TRY
# Counts its tries in COUNTER_FILE and succeeds from try SUCCEED_ON_TRY on;
# 0 means never.
counter=$1
succeed_on=$2
tries=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$tries" > "$counter"
if [ "$succeed_on" -gt 0 ] && [ "$tries" -ge "$succeed_on" ]; then
    echo "contrail-vrouter-agent        active"
    exit 0
fi
echo "contrail-vrouter-agent        initializing"
exit 1
