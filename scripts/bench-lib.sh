# Shared by the bench scripts: kubectl on the given kubeconfig, timing, and a release build of wherry.
# Expects $kubeconfig and $root; sets $wherry.
k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
# The form the image ships (Dockerfile): the Swift runtime and Foundation linked in, so memory is measured as users
# run it (a dynamically linked build maps each whole shared library and touches more of it).
build_wherry() {
    echo "bench: building wherry (release, static Swift runtime as in the image)"
    swift build -c release --product wherry --static-swift-stdlib --package-path "$root" >/dev/null
    wherry="$root/.build/release/wherry"
}
