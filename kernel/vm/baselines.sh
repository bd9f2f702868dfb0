# Sourced by run.sh for the bench suite: build the field's reference schedulers,
# scx_simple and scx_central, from tools/sched_ext of Debian's linux-source for
# the same kernel version, with clang-19 (tools/sched_ext needs clang >= 16)
# and the backports bpftool. They are baselines only: fetched and built here at
# run time, cached per kernel in $CACHE/baselines-$KVER, never part of the
# project. Needs KVER, MOD, BPFTOOL, CACHE, W and kernel.sh's fetch. Sets BASELINES.
BASELINES=$CACHE/baselines-$KVER
if [[ ! -x $BASELINES/scx_simple || ! -x $BASELINES/scx_central ]]; then
    need=(clang-19 rt-tests libelf-dev zlib1g-dev make gcc)
    miss=(); for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || miss+=("$p"); done
    if ((${#miss[@]})); then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${miss[@]}" >/dev/null
    fi
    series=$(echo "$KVER" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
    kdeb=$(ls "$CACHE/debs/linux-binary-${KVER}"_*.deb)
    want=$(dpkg-deb -f "$kdeb" Version)
    sdeb=$(fetch "linux-source-$series") || { echo "baselines: no linux-source-$series" >&2; exit 2; }
    have=$(dpkg-deb -f "$sdeb" Version)
    if [[ $have != "$want" ]]; then
        echo "baselines: linux-source-$series is $have, the kernel is $want" >&2; exit 2
    fi
    src=$W/linux-source; mkdir -p "$src" "$W/scxbuild" "$BASELINES"
    dpkg-deb --fsys-tarfile "$sdeb" | tar -xO --wildcards "*/linux-source-$series.tar.xz" | xz -dc \
        | tar -x -C "$src" --strip-components=1 --wildcards "linux-source-$series/tools/*" \
            "linux-source-$series/scripts/bpf_doc.py" "linux-source-$series/scripts/extract-vmlinux"
    sh "$src/scripts/extract-vmlinux" "$MOD/vmlinuz" > "$W/vmlinux"
    make -s -j2 -C "$src/tools/sched_ext" O="$W/scxbuild" CLANG=clang-19 BPFTOOL="$BPFTOOL" \
        VMLINUX_BTF="$W/vmlinux" scx_simple scx_central >/dev/null
    cp "$W/scxbuild/build/bin/scx_simple" "$W/scxbuild/build/bin/scx_central" "$BASELINES/"
    rm -rf "$src" "$W/scxbuild" "$W/vmlinux"
fi
