#!/usr/bin/env bash
# Times `wherry sync` of S small services (ConfigMap, Secret, Service, Deployment each; one namespace) against a
# loop of `kubectl apply --server-side` per service, and against one service holding the same objects.
#
#   scripts/bench-services.sh KUBECONFIG [S]      (default S = 200; creates and deletes namespace bench-svc)
set -euo pipefail
kubeconfig=${1:?usage: scripts/bench-services.sh KUBECONFIG [S]}
count=${2:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=scripts/bench-lib.sh
. "$root/scripts/bench-lib.sh"

build_wherry

echo "bench: generating $count services of 4 objects in a git repository"
repo="$work/repo"
mkdir -p "$repo"
services=""
for i in $(seq 1 "$count"); do
    mkdir -p "$repo/svc-$i"
    cat > "$repo/svc-$i/all.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-$i, namespace: bench-svc}
data: {key: "value-$i"}
---
apiVersion: v1
kind: Secret
metadata: {name: secret-$i, namespace: bench-svc}
stringData: {token: "t-$i"}
---
apiVersion: v1
kind: Service
metadata: {name: svc-$i, namespace: bench-svc}
spec:
  selector: {app: app-$i}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$i, namespace: bench-svc}
spec:
  replicas: 0
  selector: {matchLabels: {app: app-$i}}
  template:
    metadata: {labels: {app: app-$i}}
    spec:
      containers: [{name: app, image: registry.k8s.io/pause:3.9}]
YAML
    services+="  - {name: svc-$i, github: bench, k8s_yaml_dir: svc-$i}"$'\n'
done
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@wherry.invalid commit -qm bench
printf 'github_configs:\n  bench: {url: %s}\nservices:\n%s' "$repo" "$services" > "$work/many.yaml"
printf 'github_configs:\n  bench: {url: %s}\nservices:\n  - {name: all, github: bench, k8s_yaml_dir: .}\n' "$repo" \
    > "$work/one.yaml"

clean() {
    k delete namespace bench-svc --ignore-not-found --wait=true >/dev/null
    k create namespace bench-svc >/dev/null
}
sync() { "$wherry" sync --kubeconfig "$kubeconfig" -c "$1" --state-dir "$work/state" > "$work/out.txt"; }
timed() {
    local start
    start=$(now)
    "$@"
    elapsed "$start" "$(now)"
}
kubectl_loop() { for i in $(seq 1 "$count"); do k apply --server-side -f "$repo/svc-$i" >/dev/null; done; }

total=$((count * 4))
echo "bench: $total objects"
clean
kubectl_time=$(timed kubectl_loop)
echo "bench: kubectl apply --server-side loop: ${kubectl_time}s"
clean
many_cold=$(timed sync "$work/many.yaml")
many_warm=$(timed sync "$work/many.yaml")
unchanged=$(grep -c ': 4 unchanged$' "$work/out.txt" || true)
echo "bench: wherry sync, $count services: cold ${many_cold}s, second ${many_warm}s ($unchanged services unchanged)"
clean
one_cold=$(timed sync "$work/one.yaml")
one_warm=$(timed sync "$work/one.yaml")
echo "bench: wherry sync, one service: cold ${one_cold}s, second ${one_warm}s"
k delete namespace bench-svc --ignore-not-found --wait=false >/dev/null

printf '\nservices x objects:             %d x 4 = %d\n' "$count" "$total"
printf 'kubectl apply loop (cold)       %.2fs\n' "$kubectl_time"
printf 'wherry sync, services (cold)    %.2fs  (%.3fx the kubectl loop; target <= 0.1x)\n' "$many_cold" \
    "$(echo "$many_cold / $kubectl_time" | bc -l)"
printf 'wherry sync, services (second)  %.2fs  (%.2fx one service; target <= 2x)\n' "$many_warm" \
    "$(echo "$many_warm / $one_warm" | bc -l)"
printf 'wherry sync, one service        %.2fs cold, %.2fs second\n' "$one_cold" "$one_warm"
