# Sourced by run.sh for `CPUTIME=1 run.sh bench`: QEMU's host CPU time per
# benchmark run, a clock that the shared host's load moves far less than the
# wall clock. Under MTTCG the two vCPUs still run in parallel and a halted
# vCPU's thread sleeps. So the figure is the emulation work a scheduler costs,
# IPIs and wake-ups included, but not the time spent waiting for the host.
# bench.sh prints "BENCHMARK <scheduler> <workload> begin|end" on the console
# around each run. stamp appends the CPU time of all of QEMU's threads
# (/proc/PID/task/*/schedstat, ns) as each marker arrives, and
# cputime_samples turns the pairs into cputime.txt in bench.txt's form, which
# `auctioneer bench kernel out/scx-vm/cputime.txt` summarises. Needs W.

stamp() { # the console, each bench marker stamped with QEMU's CPU ns
    local line pid t a f each
    while IFS= read -r line; do
        line=${line%$'\r'}
        if [[ $line == *"BENCHMARK "* ]]; then
            pid=$(cat "$W/qemu.pid" 2>/dev/null || true) t=0 each=
            for f in /proc/${pid:-none}/task/*/schedstat; do
                { read -r a _ < "$f"; } 2>/dev/null && t=$((t + a)) && each="$each ${f%/schedstat}:$a"
            done
            # and each thread's (vCPUs against QEMU's I/O thread), with the
            # host's clock (a host profile's time slices) and the host's busy
            # time, all CPUs, USER_HZ ticks: less QEMU's, the other load the
            # run shared the host with
            each=${each//\/proc\/$pid\/task\//}
            read -r _ u n s _ _ i q st _ < /proc/stat
            each=${each# }; line="$line cpu_ns $t host_us ${EPOCHREALTIME/./} host_busy $((u + n + s + i + q + st)) threads ${each// /,}"
        fi
        printf '%s\n' "$line"
    done
}

cputime_samples() { # the consoles -> cputime.txt: one line per scheduler and round
    # Each boot's complete rounds: a boot cut short by QEMU's int3 Oops (run.sh
    # keeps its console as console-oops-N.txt and boots again) still gives the
    # rounds it finished, and a scheduler's n-th line stays paired with the
    # others' n-th, from the same boot and round.
    local c
    printf '# clock: QEMU host CPU time, all threads (MTTCG, not wall time); loops pipe %s messaging %s hackbench %s\n' \
        "${PIPE_L:-5000}" "${MSG_L:-50}" "${HB_L:-50}" > "$SHARE/cputime.txt"
    for c in "$W"/console-oops-*.txt "$W/console.txt"; do
        [[ -f $c ]] || continue
        awk -v pl="${PIPE_L:-5000}" -v ml="${MSG_L:-50}" -v hl="${HB_L:-50}" -v scheds="${SCHEDS:-}" '
            match($0, /BENCHMARK [^ ]+ [a-z]+ (begin|end) cpu_ns [0-9]+/) {
                split(substr($0, RSTART, RLENGTH), f, " ")
                key = f[2] " " f[3]
                if (f[4] == "begin") { t0[key] = f[6]; next }
                if (!(key in t0)) next
                d = f[6] - t0[key]; delete t0[key]
                if (f[3] == "pipe") pipe[f[2]] = d / 1000 / pl
                else if (f[3] == "messaging") msg[f[2]] = d / 1e9
                else if (f[3] == "hackbench") {
                    p = (f[2] in pipe) ? sprintf("%.3f", pipe[f[2]]) : "nan"
                    m = (f[2] in msg) ? sprintf("%.4f", msg[f[2]]) : "nan"
                    line[f[2], ++n[f[2]]] = sprintf("%s pipe_us %s messaging_s %s hackbench_s %.4f",
                                                    f[2], p, m, d / 1e9)
                    delete pipe[f[2]]; delete msg[f[2]]
                }
            }
            END {
                # a scheduler of SCHEDS with no complete run in this boot
                # leaves it no complete round
                k = split(scheds, named, " ")
                for (i = 1; i <= k; i++) if (!(named[i] in n)) n[named[i]] = 0
                rounds = -1
                for (s in n) if (rounds < 0 || n[s] < rounds) rounds = n[s]
                for (r = 1; r <= rounds; r++) for (s in n) print line[s, r]
            }' "$c" >> "$SHARE/cputime.txt"
    done
}
