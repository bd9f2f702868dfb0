# Sourced by run.sh for its `ivshmem` suite: bids pushed by a guest process
# through QEMU's ivshmem-plain device (a PCI BAR backed by a host file, no
# vmexit per bid) and drained by a host process into a tick book
# (kernel/vm/ivshmem.py, layout in src/auctioneer/tick/vmregion.py).
#
# Sets QEMU_EXTRA (the device) and starts the host side before the boot;
# ivshmem_check, after the boot, fails the run unless the host received
# every bid exactly once and in order. Env: IVSHMEM_COUNT (default 50000).
IVSHMEM_COUNT=${IVSHMEM_COUNT:-50000}
IVSHMEM_REGION=/dev/shm/auctioneer-ivshmem-$$
echo "export IVSHMEM_COUNT=$IVSHMEM_COUNT" >> "$SHARE/env.sh"
IVSHMEM_PY=$REPO/.venv/bin/python
"$IVSHMEM_PY" "$HERE/ivshmem.py" host "$IVSHMEM_REGION" --count "$IVSHMEM_COUNT" --capacity 64 \
    --json "$SHARE/ivshmem-host.json" > "$W/ivshmem-host.log" 2>&1 &
IVSHMEM_PID=$!
for _ in $(seq 100); do grep -q ready "$W/ivshmem-host.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$W/ivshmem-host.log" || { cat "$W/ivshmem-host.log"; echo "$0: ivshmem host did not start" >&2; exit 1; }
QEMU_EXTRA=(-object "memory-backend-file,id=bids,share=on,mem-path=$IVSHMEM_REGION,size=$(stat -c %s "$IVSHMEM_REGION")"
            -device ivshmem-plain,memdev=bids)

ivshmem_check() {
    wait "$IVSHMEM_PID" || fail "ivshmem host: $(tail -1 "$W/ivshmem-host.log")"
    rm -f "$IVSHMEM_REGION"
    echo "ivshmem host: $(tail -1 "$W/ivshmem-host.log")"
    echo "ivshmem guest: $(cat "$SHARE/ivshmem-guest.json" 2>/dev/null | tr -d '\n ' || echo none)"
}
