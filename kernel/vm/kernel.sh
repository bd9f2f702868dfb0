#!/usr/bin/env bash
# Resolve, download and extract the newest Debian kernel built with
# CONFIG_SCHED_CLASS_EXT=y, plus bpftool >= 7.3 (bookworm-backports), into the
# cache. Nothing from sid is installed on the host: the packages come through a
# separate apt configuration and are only extracted.
#
# Sourced by run.sh with CACHE set; sets KVER, MOD (the extracted
# /usr/lib/modules/$KVER) and BPFTOOL. The apt lists are refreshed when older
# than a day; offline, the last resolved kernel in the cache is used.
: "${CACHE:?}"
mkdir -p "$CACHE"/{apt/lists/partial,debs,k,bpftool}
cat > "$CACHE/apt/sources.list" <<'SRC'
deb http://deb.debian.org/debian sid main
deb http://deb.debian.org/debian bookworm-backports main
SRC
A=(-o Dir::Etc::sourcelist="$CACHE/apt/sources.list" -o Dir::Etc::sourceparts=-
   -o Dir::State::Lists="$CACHE/apt/lists" -o Dir::Cache="$CACHE/apt" -o Debug::NoLocking=1)
fresh=$(find "$CACHE/apt/lists" -maxdepth 1 -name '*_Packages' -mmin -1440 | head -1)
[[ -n $fresh ]] || apt-get "${A[@]}" update -qq 2>/dev/null || echo "kernel.sh: apt update failed; using the cache" >&2

fetch() { # download a package's .deb into the cache unless it is there
    local name=$1 file
    file=$(ls "$CACHE/debs/${name%%/*}"_*.deb 2>/dev/null | head -1)
    if [[ -z $file ]]; then
        (cd "$CACHE/debs" && apt-get "${A[@]}" download "$name" 2>&1 | grep -v unsandboxed >&2 || true)
        file=$(ls "$CACHE/debs/${name%%/*}"_*.deb 2>/dev/null | head -1)
    fi
    [[ -n $file ]] && echo "$file"
}

# Newest first; the first whose config has sched_ext wins.
KVER=
for k in $(apt-cache "${A[@]}" pkgnames linux-binary- 2>/dev/null \
           | sed -n 's/^linux-binary-\([0-9][0-9.]*+deb[0-9]*-amd64\)$/\1/p' | sort -rV); do
    base=$(fetch "linux-base-$k") || continue
    if dpkg-deb --fsys-tarfile "$base" 2>/dev/null | tar -xO --wildcards "./usr/lib/modules/$k/config" 2>/dev/null \
        | grep '^CONFIG_SCHED_CLASS_EXT=y' >/dev/null; then KVER=$k; break; fi
    echo "kernel.sh: $k has no CONFIG_SCHED_CLASS_EXT=y; trying an older one" >&2
done
if [[ -n $KVER ]]; then
    echo "$KVER" > "$CACHE/kver"
elif [[ -s $CACHE/kver ]]; then
    KVER=$(cat "$CACHE/kver"); echo "kernel.sh: no kernel resolved; using the cached $KVER" >&2
else
    echo "kernel.sh: no Debian kernel with CONFIG_SCHED_CLASS_EXT=y found" >&2; exit 2
fi
MOD=$CACHE/k/$KVER/usr/lib/modules/$KVER
if [[ ! -f $MOD/vmlinuz || ! -f $MOD/config ]]; then
    for p in binary modules base; do
        deb=$(fetch "linux-$p-$KVER") || { echo "kernel.sh: cannot fetch linux-$p-$KVER" >&2; exit 2; }
        dpkg-deb -x "$deb" "$CACHE/k/$KVER"
    done
fi
if [[ ! -x $CACHE/bpftool/usr/sbin/bpftool ]]; then
    deb=$(fetch bpftool/bookworm-backports) || { echo "kernel.sh: cannot fetch bpftool" >&2; exit 2; }
    dpkg-deb -x "$deb" "$CACHE/bpftool"
fi
BPFTOOL=$CACHE/bpftool/usr/sbin/bpftool
# Old kernels' extracted trees go; their .debs stay until apt-get clean-style pruning by hand.
for d in "$CACHE"/k/*; do [[ $d == "$CACHE/k/$KVER" ]] || rm -rf "$d"; done
