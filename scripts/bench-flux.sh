#!/usr/bin/env bash
# The workload of Flux's "Mean Time To Production" benchmark (fluxcd/flux-benchmark, Flux 2.9), run by `wherry run`:
# N services in one Git repository, each a ServiceAccount, a Service, a Deployment scaled to 0 and an Ingress, all in
# one namespace, `prune: true`, `wait: true`, `timeout: 60`, `poll_interval: 2`. Times the install (start of
# `wherry run` → every service applied and healthy) and the upgrade (a commit changing every Deployment's cpu
# request → every service applied and healthy at it), and prints API requests per service and peak RSS beside
# Flux's published figures. Run on purpose, against a real cluster (on this machine: shared/realk8s).
#
#   scripts/bench-flux.sh KUBECONFIG [N]       (default N = 1000; creates and deletes namespace bench-flux)
#   WHERRY_BENCH_ARGS="--max-concurrent-services 8" scripts/bench-flux.sh ...   extra `wherry run` options
#   WHERRY_BENCH_LOG_LEVEL=debug WHERRY_BENCH_KEEP=1 ...   keep the work directory and wherry's log
#   WHERRY_BENCH_FLOOR=1 ...   first time the cluster's own floor: the N Deployments created by kubectl (no Wherry),
#                              until the Deployment controller has observed every one
#   WHERRY_BENCH_WRAP="CMD" ...   runs `CMD $wherry run ...` (a profiler: scripts/profile-hot-code.sh)
set -euo pipefail
kubeconfig=${1:?usage: scripts/bench-flux.sh KUBECONFIG [N]}
count=${2:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
wherry_pid=
floor_ns=bench-flux-floor
cleanup() {
    [ -n "$wherry_pid" ] && kill "$wherry_pid" 2>/dev/null && wait "$wherry_pid" 2>/dev/null
    [ -n "${WHERRY_BENCH_FLOOR:-}" ] && k delete namespace "$floor_ns" --ignore-not-found --wait=false >/dev/null 2>&1
    if [ -n "${WHERRY_BENCH_KEEP:-}" ]; then echo "bench: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# shellcheck source=scripts/bench-lib.sh
. "$root/scripts/bench-lib.sh"
build_wherry

namespace=bench-flux
repo="$work/repo"
manifests() { # index, cpu request
    cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: app-$1, namespace: $namespace}
---
apiVersion: v1
kind: Service
metadata:
  name: app-$1
  namespace: $namespace
  labels: {app.kubernetes.io/name: app-$1}
spec:
  type: ClusterIP
  selector: {app.kubernetes.io/name: app-$1}
  ports:
    - {name: http, port: 9898, targetPort: http, protocol: TCP}
    - {name: grpc, port: 9999, targetPort: grpc, protocol: TCP}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-$1
  namespace: $namespace
  labels: {app.kubernetes.io/name: app-$1}
spec:
  replicas: 0
  revisionHistoryLimit: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  selector:
    matchLabels: {app.kubernetes.io/name: app-$1}
  template:
    metadata:
      labels: {app.kubernetes.io/name: app-$1}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9898"}
    spec:
      serviceAccountName: app-$1
      terminationGracePeriodSeconds: 30
      containers:
        - name: app
          image: registry.example.invalid/bench/app:6.7.0
          imagePullPolicy: IfNotPresent
          command: [./app, --port=9898, --grpc-port=9999, --level=info]
          env:
            - {name: APP_UI_COLOR, value: "#34577c"}
            - {name: APP_INSTANCE, value: "app-$1"}
          ports:
            - {name: http, containerPort: 9898, protocol: TCP}
            - {name: grpc, containerPort: 9999, protocol: TCP}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            initialDelaySeconds: 1
            timeoutSeconds: 5
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            initialDelaySeconds: 1
            timeoutSeconds: 5
          resources:
            limits: {memory: 256Mi}
            requests: {cpu: $2, memory: 32Mi}
          volumeMounts:
            - {name: data, mountPath: /data}
      volumes:
        - {name: data, emptyDir: {}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-$1
  namespace: $namespace
  labels: {app.kubernetes.io/name: app-$1}
spec:
  rules:
    - host: app-$1.bench.example.invalid
      http:
        paths:
          - path: /
            pathType: ImplementationSpecific
            backend:
              service: {name: app-$1, port: {number: 9898}}
YAML
}
write_all() { # cpu request
    for i in $(seq 1 "$count"); do
        mkdir -p "$repo/apps/app-$i"
        manifests "$i" "$1" > "$repo/apps/app-$i/app.yaml"
    done
}

echo "bench: writing $count services (ServiceAccount, Service, Deployment with 0 replicas, Ingress) to one repository"
mkdir -p "$repo"
write_all 100m
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@wherry.invalid commit -qm install
{
    echo "github_configs:"
    echo "  bench: {url: $repo}"
    echo "services:"
    for i in $(seq 1 "$count"); do
        echo "  - {name: app-$i, github: bench, k8s_yaml_dir: apps/app-$i, namespace: $namespace, wait: true, timeout: 60}"
    done
    echo "poll_interval: 2"
} > "$work/config.yaml"

k delete namespace "$namespace" --ignore-not-found --wait=true >/dev/null
k create namespace "$namespace" >/dev/null
k delete configmap -n wherry-system -l wherry.dev/inventory --ignore-not-found >/dev/null 2>&1 || true

port=$((20000 + RANDOM % 20000))
api="http://127.0.0.1:$port"
# Services applied and healthy at a commit: succeeded with that revision (wait: true makes success mean healthy).
done_at() {
    { curl -s "$api/v1/gitops/services" || true; } | python3 -c '
import json, sys
rev = sys.argv[1]
try:
    services = json.load(sys.stdin)["services"]
except Exception:
    print(0); sys.exit()
print(sum(1 for s in services if s["last_result"] == "succeeded" and s["last_applied_revision"] == rev))' "$1"
}
requests() {
    { curl -s "$api/metrics" || true; } | awk '/^wherry_kube_requests_total/ {sum += $NF} END {print sum + 0}'
}
peak_rss() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$wherry_pid/status"; }
# The kernel keeps no peak of the private part (heap, stacks: RssAnon; the rest is the binary's pages, shared and
# clean): sampled twice a second into $work/private-peak, in kB.
sample_private() {
    local peak=0 value
    while value=$(awk '/RssAnon/ {print $2}' "/proc/$wherry_pid/status" 2>/dev/null) && [ -n "$value" ]; do
        if [ "$value" -gt "$peak" ]; then peak=$value; echo "$peak" > "$work/private-peak"; fi
        sleep 0.5
    done
}
private_peak() { echo $(( $(cat "$work/private-peak" 2>/dev/null || echo 0) / 1024 )); }
# CPU seconds (user + system) used so far by wherry and, when they run on this machine, by the control plane.
cpu_seconds() { # pid
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_snapshot() {
    local name pid line="wherry=$(cpu_seconds "$wherry_pid")"
    for name in kube-apiserver etcd kube-controller-manager; do
        pid=$(pgrep -x "${name:0:15}" | head -1) || continue
        line="$line $name=$(cpu_seconds "$pid")"
    done
    echo "$line"
}
cpu_used() { # before, after: "name=seconds ..." each
    python3 -c '
import sys
before = dict(x.split("=") for x in sys.argv[1].split())
after = dict(x.split("=") for x in sys.argv[2].split())
print("  ".join("%s %.0f s" % (k, float(after[k]) - float(before.get(k, 0))) for k in after))' "$1" "$2"
}
wait_for() { # revision, label
    local n=0 last=-1 quiet=0
    while :; do
        n=$(done_at "$1")
        [ "$n" -ge "$count" ] && return 0
        if [ "$n" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        last=$n
        if [ "$quiet" -ge 120 ]; then echo "bench: $2 stalled at $n/$count services; log: $work/wherry.log" >&2
            tail -20 "$work/wherry.log" >&2; exit 1; fi
        # Once a second: the status API's answer for 1000 services is work for wherry too.
        sleep 1
    done
}

# Where the time went, from the cluster's own timestamps (whole seconds): when Wherry wrote the last Deployment
# (its managedFields entry), and when the Deployment controller made the last ReplicaSet for the given revision.
timeline() { # start (epoch seconds), cpu request of the revision
    python3 - "$1" "$2" <(k get deployments -n "$namespace" -o json --show-managed-fields) <(k get replicasets -n "$namespace" -o json) <<'PY'
import json, sys, datetime
start, cpu = float(sys.argv[1]), sys.argv[2]
deployments = json.load(open(sys.argv[3]))["items"]
replicasets = json.load(open(sys.argv[4]))["items"]
def seconds(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp() - start
written = [seconds(m["time"]) for d in deployments for m in d["metadata"].get("managedFields", [])
           if m["manager"] == "wherry" and m.get("operation") == "Apply"]
made = [seconds(r["metadata"]["creationTimestamp"]) for r in replicasets
        if r["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == cpu]
print("%.0f %.0f %d %.0f" % (max(written, default=-1), max(made, default=-1), len(made), min(written, default=-1)))
PY
}

# The controllers' own time for the same Deployments, without Wherry: created by kubectl (8 at once), then polled
# until the Deployment controller observed each (its client's request rate, not the API server, sets the pace).
floor() {
    local start created observed n=0 deadline
    k delete namespace "$floor_ns" --ignore-not-found --wait=true >/dev/null
    k create namespace "$floor_ns" >/dev/null
    mkdir -p "$work/floor"
    for i in $(seq 1 "$count"); do manifests "$i" 100m > "$work/floor/app-$i.yaml"; done
    # Only the Deployments, in the floor's namespace: one pass over all files.
    python3 - "$work/floor" "$namespace" "$floor_ns" <<'PY'
import os, sys
folder, old, new = sys.argv[1:]
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    docs = open(path).read().split("\n---\n")
    open(path, "w").write("".join(d.replace("namespace: " + old, "namespace: " + new) + "\n" for d in docs if "kind: Deployment" in d))
PY
    start=$(now)
    find "$work/floor" -name '*.yaml' -print0 | xargs -0 -n 50 -P 8 bash -c \
        'files=(); for f in "$@"; do files+=(-f "$f"); done; kubectl --kubeconfig "$0" create "${files[@]}" >/dev/null' \
        "$kubeconfig"
    created=$(elapsed "$start" "$(now)")
    deadline=$(( $(date +%s) + 900 ))
    while [ "$n" -lt "$count" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: floor: only $n/$count observed after 900 s" >&2; exit 1; }
        sleep 1
        n=$(k get deployments -n "$floor_ns" -o json | python3 -c '
import json, sys
print(sum(1 for d in json.load(sys.stdin)["items"]
          if d.get("status", {}).get("observedGeneration", 0) >= d["metadata"]["generation"]))') || n=0
    done
    observed=$(elapsed "$start" "$(now)")
    floor_line=$(printf 'cluster floor (no Wherry)     %7.1fs   kubectl created the %d Deployments in %.1fs; the Deployment controller observed all at %.1fs (polled once a second)' \
        "$observed" "$count" "$created" "$observed")
    echo "bench: ${floor_line#cluster }"
    k delete namespace "$floor_ns" --wait=true >/dev/null
}
floor_line=
[ -n "${WHERRY_BENCH_FLOOR:-}" ] && floor

install_commit=$(git -C "$repo" rev-parse HEAD)
echo "bench: wherry run, $count services (extra options: ${WHERRY_BENCH_ARGS:-none})"
start=$(now)
# shellcheck disable=SC2086
${WHERRY_BENCH_WRAP:-} "$wherry" run -c "$work/config.yaml" --kubeconfig "$kubeconfig" --state-dir "$work/state" \
    --listen "127.0.0.1:$port" --log-level "${WHERRY_BENCH_LOG_LEVEL:-warning}" ${WHERRY_BENCH_ARGS:-} \
    2> "$work/wherry.log" &
wherry_pid=$!
sample_private &
install_cpu_before=$(cpu_snapshot)
wait_for "$install_commit" install
install_cpu=$(cpu_used "$install_cpu_before" "$(cpu_snapshot)")
install_time=$(elapsed "$start" "$(now)")
read -r install_written install_made _ install_first <<< "$(timeline "$start" 100m)"
install_requests=$(requests)
install_breakdown=$({ curl -s "$api/metrics" || true; } | awk '/^wherry_kube_requests_total/ && $NF > 0 {
    sub(/^wherry_kube_requests_total/, ""); printf "%s %s  ", $1, $2}')
install_rss=$(peak_rss)
install_private=$(private_peak)
echo "bench: install ${install_time}s"

sleep 3
before_idle=$(requests)
sleep 6
idle_requests=$(( $(requests) - before_idle ))

write_all 101m
git -C "$repo" -c user.name=bench -c user.email=bench@wherry.invalid commit -qam upgrade
upgrade_commit=$(git -C "$repo" rev-parse HEAD)
start=$(now)
upgrade_cpu_before=$(cpu_snapshot)
wait_for "$upgrade_commit" upgrade
upgrade_cpu=$(cpu_used "$upgrade_cpu_before" "$(cpu_snapshot)")
upgrade_time=$(elapsed "$start" "$(now)")
read -r upgrade_written upgrade_made _ upgrade_first <<< "$(timeline "$start" 101m)"
upgrade_requests=$(( $(requests) - before_idle - idle_requests ))
peak=$(peak_rss)
private=$(private_peak)
healthy=$(k get deployments -n "$namespace" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(sum(1 for d in items if d["status"].get("observedGeneration", 0) >= d["metadata"]["generation"]
          and d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "101m"))')
kill "$wherry_pid"; wait "$wherry_pid" 2>/dev/null || true
wherry_pid=
k delete namespace "$namespace" --wait=false >/dev/null
k delete configmap -n wherry-system -l wherry.dev/inventory --ignore-not-found >/dev/null 2>&1 || true

printf '\nservices (4 objects each, one namespace, wait: true)   %d\n' "$count"
printf 'install, all healthy          %7.1fs   %5.1f requests/service   (Flux 2.9, 1000 apps: 253 s; goal <= 25 s)\n' \
    "$install_time" "$(echo "$install_requests / $count" | bc -l)"
printf '  install requests by kind: %s\n' "$install_breakdown"
printf 'upgrade, all healthy          %7.1fs   %5.1f requests/service   (goal <= 25 s)\n' \
    "$upgrade_time" "$(echo "$upgrade_requests / $count" | bc -l)"
printf 'Deployments observed at the upgrade  %d/%d\n' "$healthy" "$count"
printf 'timeline (cluster timestamps, whole seconds from the start):\n'
printf '  install: Wherry wrote the first Deployment at +%ss, the last at +%ss; the Deployment controller made the last ReplicaSet at +%ss\n' \
    "$install_first" "$install_written" "$install_made"
printf '  upgrade: Wherry wrote the first Deployment at +%ss, the last at +%ss; the Deployment controller made the last ReplicaSet at +%ss\n' \
    "$upgrade_first" "$upgrade_written" "$upgrade_made"
printf 'CPU seconds used (this machine has %d cores):\n  install: %s\n  upgrade: %s\n' "$(nproc)" "$install_cpu" "$upgrade_cpu"
[ -n "$floor_line" ] && echo "$floor_line"
printf 'unchanged polls over 6 s      %d API requests (goal 0)\n' "$idle_requests"
printf 'peak RSS                      %d MB after install, %d MB overall   (Flux: 223 MiB; goal < 100 MB)\n' \
    "$install_rss" "$peak"
printf '  of which private (RssAnon)  %d MB after install, %d MB overall; the rest is the binary'"'"'s own pages\n' \
    "$install_private" "$private"
