# Shared by the bench scripts: kubectl on the given kubeconfig, timing, and a release build of wherry.
# Expects $kubeconfig and $root; sets $wherry.
k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
build_wherry() {
    echo "bench: building wherry (release)"
    swift build -c release --product wherry --package-path "$root" >/dev/null
    wherry="$root/.build/release/wherry"
}
