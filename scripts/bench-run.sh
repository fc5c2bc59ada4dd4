#!/usr/bin/env bash
# Benchmarks of `wherry run` against FakeAPIServer (no cluster needed), run on purpose:
#   1. push → applied: a commit, then a signed GitHub push webhook, until the object is live in the API server;
#   2. a poll of an unchanged commit with 100 services on 10 repositories: API requests and git processes;
#   3. resident memory of `wherry run` idle with those 100 services after the first sync;
#   4. the status API's throughput on loopback (wrk, a bounded 5 s run).
#
#   scripts/bench-run.sh
#   WHERRY_BENCH_WRAP="CMD" scripts/bench-run.sh   runs `CMD $wherry run ...` (a profiler: scripts/profile-hot-code.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    # Wait for each: a profiler (WHERRY_BENCH_WRAP) writes its record when the process exits.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    exec 3>&- 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }

echo "bench: building wherry (release, static Swift runtime as in the image) and wherry-fake-apiserver"
swift build -c release --product wherry --static-swift-stdlib --package-path "$root" >/dev/null
swift build -c release --product wherry-fake-apiserver --package-path "$root" >/dev/null
bin="$root/.build/release"

# FakeAPIServer; each line written to fd 3 makes it print its request counts.
mkfifo "$work/fake.in"
"$bin/wherry-fake-apiserver" < "$work/fake.in" > "$work/fake.out" &
pids+=($!)
exec 3> "$work/fake.in"
for _ in $(seq 50); do [ -s "$work/fake.out" ] && break; sleep 0.1; done
fake=$(head -1 "$work/fake.out")
counts() { echo >&3; sleep 0.3; tail -1 "$work/fake.out"; }
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: f, cluster: {server: "%s"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: f, context: {cluster: f, user: u}}]\ncurrent-context: f\n' \
    "$fake" > "$work/kubeconfig"

# A git wrapper that logs every git command, to count processes per kind.
mkdir -p "$work/bin"
real_git=$(command -v git)
printf '#!/bin/sh\necho "$1 $2" >> %s/git.log\nexec %s "$@"\n' "$work" "$real_git" > "$work/bin/git"
chmod +x "$work/bin/git"

echo "bench: 10 repositories x 10 services, one ConfigMap each"
config() {
    echo "github_configs:"
    for r in $(seq 0 9); do echo "  r$r: {url: $work/repo-$r}"; done
    echo "services:"
    for r in $(seq 0 9); do for s in $(seq 0 9); do
        echo "  - {name: s$r-$s, github: r$r, k8s_yaml_dir: s$s, namespace: default}"
    done; done
    echo "poll_interval: $1"
    echo "webhook_secret_env: WHERRY_BENCH_WEBHOOK_SECRET"
}
for r in $(seq 0 9); do
    repo="$work/repo-$r"
    mkdir -p "$repo"
    for s in $(seq 0 9); do
        mkdir -p "$repo/s$s"
        printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%s-%s}\ndata: {k: "v0"}\n' "$r" "$s" > "$repo/s$s/cm.yaml"
    done
    git -C "$repo" init -q -b main
    git -C "$repo" add -A
    git -C "$repo" -c user.name=b -c user.email=b@wherry.invalid commit -qm init
done
export WHERRY_BENCH_WEBHOOK_SECRET=bench-secret

# Tenths of a second to wait for a start and the first sync (longer under a profiler: scripts/profile-hot-code.sh).
tries=300
[ -n "${WHERRY_BENCH_WRAP:-}" ] && tries=6000
start_wherry() { # poll interval, port
    config "$1" > "$work/config-$1.yaml"
    # shellcheck disable=SC2086
    PATH="$work/bin:$PATH" ${WHERRY_BENCH_WRAP:-} "$bin/wherry" run -c "$work/config-$1.yaml" \
        --kubeconfig "$work/kubeconfig" --state-dir "$work/state-$1" --listen "127.0.0.1:$2" --log-level warning \
        2>> "$work/wherry.log" &
    wherry_pid=$!
    pids+=($wherry_pid)
    for _ in $(seq "$tries"); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$2/readyz")" = 200 ] && break
        sleep 0.1
    done
    # Until this instance reconciled all 100 (the ConfigMaps may exist already: an earlier instance applied them).
    for _ in $(seq "$tries"); do
        n=$(curl -s "127.0.0.1:$2/v1/gitops/services" | python3 -c 'import json, sys
try:
    print(sum(1 for s in json.load(sys.stdin)["services"] if s["last_result"] == "succeeded"))
except Exception:
    print(0)')
        [ "$n" -ge 100 ] && break
        sleep 0.1
    done
}
now() { date +%s.%N; }

# 1. Push → applied through the webhook; polls every hour, so only the webhook can explain the speed.
port=$((20000 + RANDOM % 20000))
start_wherry 3600 "$port"
times=()
for i in 1 2 3 4 5; do
    repo="$work/repo-0"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0-0}\ndata: {k: "push-%s"}\n' "$i" > "$repo/s0/cm.yaml"
    git -C "$repo" -c user.name=b -c user.email=b@wherry.invalid commit -qam "push $i"
    body="{\"ref\":\"refs/heads/main\",\"repository\":{\"clone_url\":\"$repo\"}}"
    signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac bench-secret -hex | sed 's/^.*= //')
    start=$(now)
    curl -s -o /dev/null -X POST "127.0.0.1:$port/v1/gitops/webhook/github" -H "X-GitHub-Event: push" \
        -H "X-Hub-Signature-256: sha256=$signature" -d "$body"
    for _ in $(seq 1000); do
        curl -s "$fake/api/v1/namespaces/default/configmaps/cm-0-0" | grep -q "push-$i" && break
        sleep 0.005
    done
    times+=("$(echo "$(now) - $start" | bc -l)")
done
kill "$wherry_pid"; wait "$wherry_pid" 2>/dev/null || true
push=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
push_max=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)

# 2-4. Polls every 2 s.
port=$((20000 + RANDOM % 20000))
start_wherry 2 "$port"
sleep 3
rss=$(awk '/VmRSS/ {print $2}' "/proc/$wherry_pid/status")
anon=$(awk '/RssAnon/ {print $2}' "/proc/$wherry_pid/status")
file=$(awk '/RssFile/ {print $2}' "/proc/$wherry_pid/status")
before=$(counts)
: > "$work/git.log"
sleep 6.5
after=$(counts)
polls=$(grep -c '^ls-remote' "$work/git.log" || true)
other_git=$(grep -vc '^ls-remote' "$work/git.log" || true)
requests=$(( $(echo "$after" | awk '{print $2}') - $(echo "$before" | awk '{print $2}') ))
wrk -t2 -c32 -d5s "http://127.0.0.1:$port/v1/gitops/repos" > "$work/wrk.txt"
rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
errors=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" || echo none)

printf '\npush -> applied (webhook, median of 5)   %.3fs (max %.3fs; goal < 1 s)\n' "$push" "$push_max"
printf 'unchanged polls over 6.5 s, 10 repos      %d ls-remote, %d other git processes, %d API requests (goal 0)\n' \
    "$polls" "$other_git" "$requests"
printf 'RSS idle, 100 services                    %d MB (goal < 40 MB): %d MB private heap, %d MB file-backed (binary, Swift runtime)\n' \
    "$((rss / 1024))" "$((anon / 1024))" "$((file / 1024))"
printf 'status API, wrk -c32 5 s                  %s requests/s (goal >= 5000); errors: %s\n' "$rate" "$errors"
