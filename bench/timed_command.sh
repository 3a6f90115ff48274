# The fleet bench's sshd ForceCommand (bench/fleet_bench.py): run the client's command as
# sshd itself would ("$SHELL" -c "$SSH_ORIGINAL_COMMAND"), then write bash's `times` (two
# lines, user and system seconds, millisecond precision: this wrapper shell's own CPU, then
# its children's, i.e. the command's and everything it ran) to a new file named $1.<pid>.<random>.
# Exit status, stdin, stdout and stderr are the command's.
"${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"
rc=$?
times >"$1.$$.${SRANDOM:-$RANDOM}"
exit "$rc"
