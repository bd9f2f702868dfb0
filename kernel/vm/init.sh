#!/bin/sh
# The guest's /init (a static busybox initramfs): load the 9p modules (=m in
# Debian's config), mount the host's / read-only as the root to chroot into
# and the run's share directory read-write at /tmp/scxvm, the checkout
# read-only at its own path, then run the suite's guest script and power off.
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p; do insmod /mods/$m.ko || echo "init: insmod $m failed"; done
o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $o,ro,cache=loose hostroot /host || { echo "init: 9p root mount failed"; poweroff -f; }
for d in proc sys dev; do mount --bind /$d /host/$d; done
mount -t tmpfs tmp /host/tmp; mount -t tmpfs run /host/run; mkdir -p /host/tmp/scxvm
mount -t 9p -o $o work /host/tmp/scxvm || echo "init: 9p work mount failed"
read -r repo < /host/tmp/scxvm/repo
mkdir -p "/host$repo"
mount -t 9p -o $o,ro,cache=loose repo "/host$repo" || echo "init: 9p repo mount failed"
mount -t bpf bpf /host/sys/fs/bpf; mount -t tracefs tracefs /host/sys/kernel/tracing
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
echo "init: up at $(cat /proc/uptime)"
chroot /host /bin/sh -c 'cd /tmp/scxvm && . ./env.sh && exec sh "$REPO/kernel/vm/guest.sh"' 2>&1
echo "init: guest.sh rc=$? at $(cat /proc/uptime)"
poweroff -f
