# The bench suite, inside the guest: perf bench sched pipe and messaging and
# hackbench under EEVDF, the project's scheduler (and its A/B variants,
# auction:KNOB=V, or auction@REV as committed at REV, built by run.sh),
# scx_simple and scx_central, interleaved round by round in one boot, each
# round in a fresh random order so that a drift of the (shared, noisy) host
# favours none of them. Every figure is from
# an emulated (TCG) machine: a comparison between schedulers in the same boot,
# not a hardware number. Writes bench.txt into the share ($1), which
# `auctioneer bench kernel` summarises.
# $2 = profile: instead, per turn of a scheduler in SCHEDS (a name may come
# more than once), every BPF program's run count and run time
# (kernel.bpf_stats_enabled) read before and after perf bench sched pipe -l
# PIPE_L, into bpfstats-<scheduler>-<turn>.json, which `auctioneer kernel
# bpfstats` reads: each callback's ns per call and calls per round trip.
# Env: RUNS (rounds, default 3), SCHEDS (default: all four), CLOCK (the guest's
# clock, from run.sh: the samples' first line), PIPE_L, MSG_L, HB_L (loops per
# sample of pipe, messaging and hackbench).
S=$1; MODE=${2:-bench}; R=${RUNS:-3}; OUT=$S/bench.txt
SCHEDS=${SCHEDS:-eevdf auction scx_simple scx_central}
state() { cat /sys/kernel/sched_ext/state; }
wait_state() { i=0; while [ "$(state)" != "$1" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done; }
ok=0
# A scheduler that did not come up is not measured (its sample is nan), so
# EEVDF's time never counts as another scheduler's.
start() {
  case $1 in
  eevdf) ;;
  auction*)
    # bpftool itself, as `auctioneer kernel load` does, without the Python
    # start-up (seconds under emulation) between samples; every build of the
    # scheduler loads the same way, so the A/B compares only the builds
    obj=$S/scx_auction.bpf.o; [ "$1" = auction ] || obj=$S/scx_auction-${1#auction[:@]}.bpf.o
    mkdir -p "$S/link" && "$AUCTIONEER_BPFTOOL" struct_ops register "$obj" "$S/link" > /dev/null
    wait_state enabled
    [ "$(cat /sys/kernel/sched_ext/root/ops)" = auction ] || { echo "$1 did not come up"; ok=1; return 1; }
    ;;
  *)
    "$S/$1" > /dev/null 2>&1 & pid=$!
    wait_state enabled
    [ "$(cat /sys/kernel/sched_ext/root/ops)" = "${1#scx_}" ] || { echo "$1 did not come up"; ok=1; return 1; }
    ;;
  esac
}
stop() {
  case $1 in
  eevdf) ;;
  auction*) rm -f "$S/link"/*; wait_state disabled ;; # the pin; bpftool mounted a bpffs there
  *) kill -INT $pid; wait $pid; wait_state disabled ;;
  esac
}
# The guest's own event counts, which the host's load does not move: context
# switches, rescheduling and function-call IPIs (each IPI to a halted vCPU
# is a host thread wake-up under MTTCG) and idle time (USER_HZ ticks).
counts() {
  awk '/^ctxt/ {c = $2} /^cpu / {i = $5} END {printf "ctxt %d idle %d ", c, i}' /proc/stat
  awk '$1 == "RES:" || $1 == "CAL:" {n = 0; for (k = 2; k <= NF && $k ~ /^[0-9]+$/; k++) n += $k;
       printf "%s %d ", tolower(substr($1, 1, 3)), n}' /proc/interrupts
}
# counts.txt: per scheduler and workload, the counts' change over one run;
# also on the console (BENCHCOUNTS), where it sits beside that run's CPU time
delta() {
  echo "$3|$4" | awk -F'|' -v s="$1" -v w="$2" '{n = split($1, a, " "); split($2, b, " "); out = s " " w
    for (i = 1; i < n; i += 2) out = out " " a[i] " " (b[i + 1] - a[i + 1]); print out}' | tee -a "$S/counts.txt" \
    | sed 's/^/BENCHCOUNTS /' >&2
}
# The markers on the console (stderr) let run.sh (CPUTIME=1) read QEMU's host
# CPU time at each end of the run: cputime.txt.
run() { # scheduler, workload, command...: the command's output; its counts into counts.txt
  s=$1 w=$2; shift 2
  a=$(counts); echo "BENCHMARK $s $w begin" >&2
  out=$("$@" 2>&1)
  echo "BENCHMARK $s $w end" >&2; b=$(counts)
  delta "$s" "$w" "$a" "$b"
  echo "$out"
}
measure() { # one sample of each benchmark under scheduler $1
  p=$(run "$1" pipe timeout 120 perf bench sched pipe -l "${PIPE_L:-5000}" | sed -n 's/.* \([0-9.]*\) usecs\/op/\1/p')
  # PIPE2=1: pipe once more, at once: the same scheduler past its first
  # minutes (code freshly translated by the emulator, caches), on the
  # console only (BENCHMARK <scheduler> pipe2)
  [ -z "${PIPE2:-}" ] || run "$1" pipe2 timeout 120 perf bench sched pipe -l "${PIPE_L:-5000}" > /dev/null
  m=$(run "$1" messaging timeout 120 perf bench sched messaging -g 2 -l "${MSG_L:-50}" | sed -n 's/.*Total time: \([0-9.]*\).*/\1/p')
  h=$(run "$1" hackbench timeout 120 hackbench -g 2 -l "${HB_L:-50}" | sed -n 's/^Time: \([0-9.]*\).*/\1/p')
  echo "$1 pipe_us ${p:-nan} messaging_s ${m:-nan} hackbench_s ${h:-nan}" | tee -a $OUT
}
# The counters run only while the sysctl is on, from whenever it was turned
# on, so both reads bracket the pipe run alone: the difference is pipe's.
# Under MTTCG the run times are guest-clock ns (emulated), the stats' own
# two clock reads per call included, as for every scheduler alike.
# GPERF=1: also the guest kernel's own profile of that pipe run (perf record
# -a, cpu-clock: where the vCPUs' busy time goes, the emulator's CPU time
# following it), with the kernel's symbols, BPF programs included
profile() { # each BPF program's run count and time during pipe under scheduler $1
  sysctl -qw kernel.bpf_stats_enabled=1
  f=$S/bpfstats-$1-$n.json
  "$AUCTIONEER_BPFTOOL" -j prog show > /tmp/before.json
  if [ -n "${GPERF:-}" ]; then
    cat /proc/kallsyms > "$S/kallsyms-$1.txt"
    # recorded on the guest's tmpfs, then copied: perf's output file is
    # rewritten at the end, which over 9p left only its header
    perf record -a -g -F 499 -o /tmp/gperf.data -- perf bench sched pipe -l "${PIPE_L:-5000}" \
      > /tmp/pipe.txt 2>&1
    cp /tmp/gperf.data "$S/gperf-$1-$n.data"
  else
    perf bench sched pipe -l "${PIPE_L:-5000}" > /tmp/pipe.txt 2>&1
  fi
  "$AUCTIONEER_BPFTOOL" -j prog show > /tmp/after.json
  sysctl -qw kernel.bpf_stats_enabled=0
  us=$(sed -n 's/.* \([0-9.]*\) usecs\/op/\1/p' /tmp/pipe.txt)
  # the clocksource: what a BPF clock read (bpf_ktime_get_ns) costs the emulator
  cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
  { printf '{"scheduler": "%s", "turn": %d, "clock": "%s", "clocksource": "%s", "loops": %d, "pipe_us": %s, "before": ' \
      "$1" "$n" "${CLOCK:-MTTCG wall clock}" "$cs" "${PIPE_L:-5000}" "${us:-null}"
    cat /tmp/before.json; printf ', "after": '; cat /tmp/after.json; echo '}'; } > "$f"
}
# Where the IPIs and context switches come from, per scheduler and workload:
# tracefs histograms (in-kernel counts, no per-event output) of who sent each
# IPI (the function that called resched_curr or queued the call, and the whole
# stack), the switched-out task's state (R: preempted, its slice ended or a
# kick; S/D: it blocked), migrations, and wakeups by waker and target CPU,
# plus sched_ext's own event counters; into trace-<scheduler>-<workload>-<n>.txt,
# n counting the scheduler's turns (SCHEDS may name one several times).
hists='ipi/ipi_send_cpu hist:keys=callsite.sym,callback.sym:sort=hitcount.descending
ipi/ipi_send_cpu hist:keys=common_stacktrace:sort=hitcount.descending
ipi/ipi_send_cpumask hist:keys=callsite.sym,callback.sym:sort=hitcount.descending
sched/sched_switch hist:keys=prev_state,next_comm:sort=hitcount.descending
sched/sched_switch hist:keys=common_stacktrace:sort=hitcount.descending if prev_state == 0
sched/sched_migrate_task hist:keys=comm,orig_cpu,dest_cpu:sort=hitcount.descending
sched/sched_migrate_task hist:keys=common_stacktrace:sort=hitcount.descending if comm == "sched-pipe"
sched/sched_wakeup hist:keys=common_cpu,target_cpu:sort=hitcount.descending'
triggers() { # $1: "" to set, "!" to remove
  echo "$hists" | while read -r ev t; do echo "$1$t" >> /sys/kernel/tracing/events/$ev/trigger; done
}
# the scheduler's own per-CPU counters (kicks, handoffs, ...), as JSON; none
# for the baselines
stats() { case $SCHED_NOW in auction*) "$AUCTIONEER_BPFTOOL" -j map dump name auc_stats 2>/dev/null ;; esac; echo; }
n=0
trace() {
  SCHED_NOW=$1
  for w in pipe messaging; do
    f=$S/trace-$1-$w-$n.txt
    cat /sys/kernel/sched_ext/root/events > "$f.ev0" 2>/dev/null
    stats > "$f.st0"
    triggers ""
    case $w in
    pipe) run "$1" pipe perf bench sched pipe -l "${PIPE_L:-5000}" > "$f" ;;
    messaging) run "$1" messaging perf bench sched messaging -g 2 -l "${MSG_L:-50}" > "$f" ;;
    esac
    echo "$hists" | cut -d' ' -f1 | uniq | while read -r ev; do
      echo "== $ev"; cat /sys/kernel/tracing/events/$ev/hist; done >> "$f"
    triggers "!"
    { echo "== sched_ext events before"; cat "$f.ev0"; echo "== after"
      cat /sys/kernel/sched_ext/root/events 2>/dev/null
      echo "== auc_stats before"; cat "$f.st0"; echo "== after"; stats; } >> "$f"; rm -f "$f.ev0" "$f.st0"
  done
}
if [ "$MODE" = profile ] || [ "$MODE" = trace ]; then
  [ -z "${GPERF:-}" ] || sysctl -qw net.core.bpf_jit_kallsyms=1 # before the loads
  for s in $SCHEDS; do n=$((n + 1)); start "$s" && "$MODE" "$s"; stop "$s"; done
  exit $ok
fi
echo "# clock: ${CLOCK:-MTTCG wall clock}; loops pipe ${PIPE_L:-5000} messaging ${MSG_L:-50} hackbench ${HB_L:-50}" > $OUT
for r in $(seq 1 "$R"); do
  for s in $(for s in $SCHEDS; do echo "$s"; done | shuf); do
    if start "$s"; then measure "$s"; else echo "$s pipe_us nan messaging_s nan hackbench_s nan" >> $OUT; fi
    stop "$s"
  done
done
exit $ok
