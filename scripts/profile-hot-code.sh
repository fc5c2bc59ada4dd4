#!/usr/bin/env bash
# Records which functions a running controller executes and writes them to Linker/hot-functions.txt: the release
# link lays those functions out together at the start of the code (Package.swift), so a controller keeps far less
# of the binary resident (idle with 100 services: 27 MB of its pages instead of 36 MB). Run on purpose after changes
# that move much code. A stale list costs memory, never correctness: a function it does not name is laid out after
# the named ones.
#
#   scripts/profile-hot-code.sh [KUBECONFIG]
#
# It runs scripts/bench-run.sh (FakeAPIServer: start, the first sync of 100 services, webhooks, polls, the status
# API) and, given the kubeconfig of a real cluster, scripts/bench-flux.sh with 20 services (TLS, server-side apply,
# the health watch), with `wherry run` under valgrind's callgrind, which records every function it executes.
# Needs valgrind (apt-get install valgrind); takes a few minutes.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
kubeconfig=${1:-}
command -v valgrind >/dev/null || { echo "profile: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
out=$(mktemp -d /tmp/wherry-profile.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "profile: building wherry (release, static Swift runtime as in the image)"
swift build -c release --product wherry --static-swift-stdlib --package-path "$root" >/dev/null
binary="$root/.build/release/wherry"
# Debian 12's valgrind (3.19) cannot read the DWARF 5 debug information the toolchain writes: profile a copy
# without it (the same code and symbols).
toolchain=$(dirname "$(readlink -f "$(command -v swift)")")
objcopy=$(command -v llvm-objcopy || echo "$toolchain/llvm-objcopy")
nm=$(command -v llvm-nm || echo "$toolchain/llvm-nm")
"$objcopy" --strip-debug "$binary" "$out/wherry"
# The benches run `$WHERRY_BENCH_WRAP <their binary> run ...`: this runs the copy under callgrind instead.
cat > "$out/callgrind" <<WRAP
#!/bin/sh
shift
exec valgrind --tool=callgrind --demangle=no --dump-instr=no --compress-strings=no --compress-pos=no \\
    --callgrind-out-file="$out/callgrind.%p" "$out/wherry" "\$@"
WRAP
chmod +x "$out/callgrind"

echo "profile: scripts/bench-run.sh under callgrind"
WHERRY_BENCH_WRAP="$out/callgrind" "$root/scripts/bench-run.sh" > "$out/bench-run.log" 2>&1 \
    || { echo "profile: bench-run failed" >&2; tail -20 "$out/bench-run.log" >&2; exit 1; }
if [ -n "$kubeconfig" ]; then
    echo "profile: scripts/bench-flux.sh $kubeconfig 20 under callgrind"
    WHERRY_BENCH_WRAP="$out/callgrind" "$root/scripts/bench-flux.sh" "$kubeconfig" 20 > "$out/bench-flux.log" 2>&1 \
        || { echo "profile: bench-flux did not finish under callgrind (its health waits time out when slowed);" \
            "keeping what it recorded" >&2; tail -5 "$out/bench-flux.log" >&2; }
fi

# Every function callgrind saw (`fn=NAME`, recursion levels as NAME'2), kept if the binary defines it as code
# (the rest is in shared libraries: libc, SQLite).
cat "$out"/callgrind.* | sed -n "s/^fn=//p" | sed "s/'[0-9]*\$//" | sort -u > "$out/executed"
"$nm" --defined-only "$binary" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u > "$out/defined"
comm -12 "$out/executed" "$out/defined" > "$out/hot"
# A run that never got going records little: keep the list there is rather than write that one.
if [ "$(wc -l < "$out/hot")" -lt 5000 ]; then
    echo "profile: only $(wc -l < "$out/hot") functions recorded; Linker/hot-functions.txt left as it was" >&2
    exit 1
fi
mv "$out/hot" "$root/Linker/hot-functions.txt"
echo "profile: $(wc -l < "$root/Linker/hot-functions.txt") functions in Linker/hot-functions.txt"
# The list is not an input the build tracks: remove the binary, so the next release build links it anew.
rm -f "$binary"
echo "profile: the next release build lays them out (swift build -c release --product wherry --static-swift-stdlib)"
