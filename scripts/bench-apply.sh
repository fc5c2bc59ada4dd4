#!/usr/bin/env bash
# Times `wherry sync` against `kubectl apply --server-side` on the same N objects and cluster, and measures the
# API server's own limit for server-side apply: raw concurrent PATCHes (32 in flight, no client logic) of
# ConfigMaps, and of the very objects Wherry applied.
#
#   scripts/bench-apply.sh KUBECONFIG [N]      (default N = 1000; creates and deletes namespaces bench-*)
set -euo pipefail
kubeconfig=${1:?usage: scripts/bench-apply.sh KUBECONFIG [N]}
count=${2:-1000}
namespaces=4
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
proxy_pid=
trap 'kill $proxy_pid 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck source=scripts/bench-lib.sh
. "$root/scripts/bench-lib.sh"

build_wherry

echo "bench: generating $count objects in a git repository"
repo="$work/repo"
mkdir -p "$repo/k8s"
for n in $(seq 0 $((namespaces - 1))); do
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-%s\n' "$n" > "$repo/k8s/00-namespace-$n.yaml"
done
per=$(((count - namespaces) / 3))
for i in $(seq 1 "$per"); do
    ns="bench-$((i % namespaces))"
    cat > "$repo/k8s/obj-$i.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-$i, namespace: $ns}
data: {key: "value-$i"}
---
apiVersion: v1
kind: Service
metadata: {name: svc-$i, namespace: $ns}
spec:
  selector: {app: app-$i}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$i, namespace: $ns}
spec:
  replicas: 0
  selector: {matchLabels: {app: app-$i}}
  template:
    metadata: {labels: {app: app-$i}}
    spec:
      containers: [{name: app, image: registry.k8s.io/pause:3.9}]
YAML
done
total=$((namespaces + per * 3))
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@wherry.invalid commit -qm bench
printf 'github_configs:\n  bench: {url: %s}\nservices:\n  - {name: bench, github: bench, k8s_yaml_dir: k8s}\n' "$repo" > "$work/gitops-config.yaml"

clean() {
    k delete namespace $(seq -f 'bench-%g' 0 $((namespaces - 1))) bench-raw --ignore-not-found --wait=true >/dev/null
}

echo "bench: $total objects; cleaning"
clean
start=$(now)
k apply --server-side --force-conflicts -R -f "$repo/k8s" >/dev/null
kubectl_time=$(elapsed "$start" "$(now)")
echo "bench: kubectl apply --server-side: ${kubectl_time}s"
clean

start=$(now)
"$wherry" sync --kubeconfig "$kubeconfig" -c "$work/gitops-config.yaml" --state-dir "$work/state" > "$work/cold.txt"
cold=$(elapsed "$start" "$(now)")
start=$(now)
"$wherry" sync --kubeconfig "$kubeconfig" -c "$work/gitops-config.yaml" --state-dir "$work/state" > "$work/warm.txt"
warm=$(elapsed "$start" "$(now)")
unchanged=$(grep -v '^service ' "$work/warm.txt" | grep -c ' unchanged$' || true)
echo "bench: wherry sync cold: ${cold}s; second sync: ${warm}s ($unchanged of $total unchanged)"

echo "bench: raw server-side apply limit"
clean
k create namespace bench-raw >/dev/null
for n in $(seq 0 $((namespaces - 1))); do k create namespace "bench-$n" >/dev/null; done
port=$((20000 + RANDOM % 20000))
k proxy --address 127.0.0.1 --port "$port" >/dev/null 2>&1 &
proxy_pid=$!
sleep 2
# The same objects as Wherry applied, as bare concurrent PATCHes (writes only, no validation, no comparison):
# what this server takes for this mix of kinds (Services and Deployments cost more than ConfigMaps).
mix_rate=$(python3 - "$port" "$repo/k8s" <<'PY'
import glob, http.client, json, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import yaml
port, directory = int(sys.argv[1]), sys.argv[2]
objects = []
for name in sorted(glob.glob(directory + "/obj-*.yaml")):
    with open(name) as f:
        objects += [d for d in yaml.safe_load_all(f) if d]
paths = {"ConfigMap": "/api/v1/namespaces/{}/configmaps/{}", "Service": "/api/v1/namespaces/{}/services/{}",
         "Deployment": "/apis/apps/v1/namespaces/{}/deployments/{}"}
local = threading.local()
def patch(o):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection("127.0.0.1", port)
    path = paths[o["kind"]].format(o["metadata"]["namespace"], o["metadata"]["name"])
    local.c.request("PATCH", path + "?fieldManager=bench&force=true", json.dumps(o),
                    {"Content-Type": "application/apply-patch+yaml"})
    r = local.c.getresponse(); r.read()
    if r.status >= 300: raise SystemExit(f"raw apply failed: HTTP {r.status}")
start = time.time()
with ThreadPoolExecutor(32) as pool:
    list(pool.map(patch, objects))
print(f"{len(objects) / (time.time() - start):.1f}")
PY
)
raw_rate=$(python3 - "$port" "$count" <<'PY'
import http.client, json, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
port, count = int(sys.argv[1]), int(sys.argv[2])
local = threading.local()
def patch(i):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": f"raw-{i}", "namespace": "bench-raw"}, "data": {"k": str(i)}})
    local.c.request("PATCH", f"/api/v1/namespaces/bench-raw/configmaps/raw-{i}?fieldManager=bench&force=true",
                    body, {"Content-Type": "application/apply-patch+yaml"})
    r = local.c.getresponse(); r.read()
    if r.status >= 300: raise SystemExit(f"raw apply failed: HTTP {r.status}")
start = time.time()
with ThreadPoolExecutor(32) as pool:
    list(pool.map(patch, range(count)))
print(f"{count / (time.time() - start):.1f}")
PY
)
kill $proxy_pid 2>/dev/null || true
clean

ratio=$(echo "$cold / $kubectl_time" | bc -l)
cold_rate=$(echo "$total / $cold" | bc -l)
warm_rate=$(echo "$total / $warm" | bc -l)
printf '\nobjects:                    %d\n' "$total"
printf 'kubectl apply --server-side %.2fs\n' "$kubectl_time"
printf 'wherry sync (cold)          %.2fs  (%.3fx kubectl; target <= 0.15x)\n' "$cold" "$ratio"
printf 'raw SSA limit               %.1f objects/s\n' "$raw_rate"
printf 'wherry cold throughput      %.1f objects/s  (%.0f%% of raw; target >= 40%%)\n' "$cold_rate" "$(echo "100 * $cold_rate / $raw_rate" | bc -l)"
printf 'raw SSA of the same objects %.1f objects/s  (wherry cold: %.0f%% of it, with validation first)\n' "$mix_rate" "$(echo "100 * $cold_rate / $mix_rate" | bc -l)"
printf 'wherry second sync          %.1f objects/s  (%.0f%% of raw; target >= 50%%, no writes)\n' "$warm_rate" "$(echo "100 * $warm_rate / $raw_rate" | bc -l)"
printf 'second sync writes          %d of %d objects not unchanged\n' "$((total - unchanged))" "$total"
