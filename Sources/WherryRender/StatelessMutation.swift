public import WherryModel

/// The seed's "ensure stateless" mutation, done robustly, for the Deployments, DaemonSets and StatefulSets of a
/// service that asks for it (`stateless: true`).
///
/// - An init container `wherry-fetch` downloads `$DOWNLOAD_BASE_URL/scripts/<service>/init.sh` and
///   `$DOWNLOAD_BASE_URL/apps/<service>/app.tar.gz` into a shared volume mounted at `/app` and unpacks the bundle
///   there, retrying each download and failing (so Kubernetes restarts it) on any error: `set -eu`, not a `bash -c`
///   that carries on after a failed `wget`.
/// - Every container gets `SERVICE_NAME`, `DOWNLOAD_BASE_URL`, `CONFIG_PATH` and `SECRET_PATH` (unless it sets
///   them itself), ConfigMap `<service>-config` at `/etc/config` and Secret `<service>-secret` at `/etc/secret`
///   (read-only; optional, so a service without one still starts), an emptyDir at `/tmp`, and `/app`. A mount whose
///   path the container already uses is left to the container.
/// - A container keeps its own command; one without a command (or every one, with `command: init`) runs
///   `/app/init.sh`.
/// - Mutating twice gives the same objects as mutating once.
public struct StatelessMutation: Sendable, Hashable {
    /// Which containers run the downloaded `init.sh`.
    public enum Command: String, Sendable, Hashable {
        /// Containers without a command of their own (the default).
        case whenUnset = "when-unset"
        /// Every container: its command is replaced.
        case initScript = "init"
        /// None: every container keeps what it has; `init.sh` is only downloaded.
        case keep
    }

    public var service: String
    /// Where `scripts/` and `apps/` are downloaded from.
    public var downloadBaseURL: String
    /// The init container's image: it needs `sh`, `wget` (or `curl`), `tar` and `gzip`.
    public var image: String
    public var command: Command
    /// Tries per download.
    public var attempts: Int

    public static let defaultImage = "busybox:1.36"
    public static let initContainerName = "wherry-fetch"
    public static let appVolume = "wherry-app"

    public init(
        service: String, downloadBaseURL: String, image: String = defaultImage, command: Command = .whenUnset,
        attempts: Int = 5
    ) {
        self.service = service
        self.downloadBaseURL = downloadBaseURL
        self.image = image
        self.command = command
        self.attempts = attempts
    }

    /// The kinds that are mutated.
    public static let workloadKinds: Set<String> = ["Deployment", "DaemonSet", "StatefulSet"]

    /// The objects with every workload mutated; others unchanged.
    public func apply(to objects: [KubeObject]) -> [KubeObject] {
        objects.map { object in
            guard Self.workloadKinds.contains(object.kind), object.groupVersionKind.group == "apps",
                case .object(var spec)? = object.body["spec"]
            else { return object }
            var template = spec["template"]?.objectValue ?? JSONObject()
            var podSpec = template["spec"]?.objectValue ?? JSONObject()
            mutate(&podSpec)
            template["spec"] = .object(podSpec)
            spec["template"] = .object(template)
            var mutated = object
            mutated.body["spec"] = .object(spec)
            return mutated
        }
    }

    /// The environment every container (and the init container) gets.
    var environment: [(String, String)] {
        [
            ("SERVICE_NAME", service), ("DOWNLOAD_BASE_URL", downloadBaseURL), ("CONFIG_PATH", "/etc/config"),
            ("SECRET_PATH", "/etc/secret"),
        ]
    }

    private func mutate(_ pod: inout JSONObject) {
        var volumes = pod["volumes"]?.arrayValue ?? []
        let wanted: [JSONValue] = [
            ["name": .string(Self.appVolume), "emptyDir": [:]],
            [
                "name": "config-volume",
                "configMap": ["name": .string(ConfigFilesHandler.configMapName(service: service)), "optional": true],
            ],
            ["name": "secret-volume", "secret": ["secretName": .string("\(service)-secret"), "optional": true]],
            ["name": "tmp-volume", "emptyDir": [:]],
        ]
        for volume in wanted {
            volumes.removeAll { $0["name"] == volume["name"] }
            volumes.append(volume)
        }
        pod["volumes"] = .array(volumes)

        var initContainers = pod["initContainers"]?.arrayValue ?? []
        initContainers.removeAll { $0["name"]?.stringValue == Self.initContainerName }
        initContainers.insert(fetchContainer, at: 0)
        pod["initContainers"] = .array(initContainers)

        let containers = (pod["containers"]?.arrayValue ?? []).map { container -> JSONValue in
            guard case .object(var container) = container else { return container }
            container["env"] = .array(Self.ensuringEnvironment(container["env"]?.arrayValue ?? [], environment))
            container["volumeMounts"] = .array(
                Self.ensuringMounts(
                    container["volumeMounts"]?.arrayValue ?? [],
                    [
                        (Self.appVolume, "/app", false), ("config-volume", "/etc/config", true),
                        ("secret-volume", "/etc/secret", true), ("tmp-volume", "/tmp", false),
                    ]))
            let runsInit =
                switch command {
                case .initScript: true
                case .whenUnset: container["command"] == nil || container["command"] == .array([])
                case .keep: false
                }
            if runsInit { container["command"] = ["/bin/sh", "/app/init.sh"] }
            return .object(container)
        }
        pod["containers"] = .array(containers)
    }

    /// The init container that downloads and unpacks.
    private var fetchContainer: JSONValue {
        [
            "name": .string(Self.initContainerName), "image": .string(image),
            "command": ["/bin/sh", "-c", .string(Self.fetchScript(attempts: attempts))],
            "env": .array(Self.ensuringEnvironment([], environment)),
            "volumeMounts": [
                ["name": .string(Self.appVolume), "mountPath": "/app"], ["name": "tmp-volume", "mountPath": "/tmp"],
            ],
        ]
    }

    /// The init container's script: downloads with retries, unpacks into `$APP_DIR` (default `/app`), and exits
    /// non-zero on any failure.
    public static func fetchScript(attempts: Int = 5) -> String {
        """
        set -eu
        : "${DOWNLOAD_BASE_URL:?DOWNLOAD_BASE_URL is not set}"
        : "${SERVICE_NAME:?SERVICE_NAME is not set}"
        app="${APP_DIR:-/app}"
        base="${DOWNLOAD_BASE_URL%/}"
        fetch() {
          n=0
          while :; do
            rm -f "$2.part"
            if command -v wget >/dev/null 2>&1; then
              if wget -q -O "$2.part" "$1"; then break; fi
            elif curl -fsSL -o "$2.part" "$1"; then
              break
            fi
            n=$((n + 1))
            if [ "$n" -ge \(attempts) ]; then
              echo "wherry-fetch: cannot download $1 after $n tries" >&2
              exit 1
            fi
            sleep "$n"
          done
          mv "$2.part" "$2"
        }
        mkdir -p "$app"
        fetch "$base/scripts/$SERVICE_NAME/init.sh" "$app/init.sh"
        chmod +x "$app/init.sh"
        fetch "$base/apps/$SERVICE_NAME/app.tar.gz" "$app/.app.tar.gz"
        tar -xzf "$app/.app.tar.gz" -C "$app"
        rm -f "$app/.app.tar.gz"
        echo "wherry-fetch: $app is ready"

        """
    }

    /// `env` with each variable of `wanted` added unless the container sets it already.
    static func ensuringEnvironment(_ env: [JSONValue], _ wanted: [(String, String)]) -> [JSONValue] {
        var env = env
        for (name, value) in wanted where !env.contains(where: { $0["name"]?.stringValue == name }) {
            env.append(["name": .string(name), "value": .string(value)])
        }
        return env
    }

    /// `volumeMounts` with each wanted mount added unless its path is mounted already.
    static func ensuringMounts(_ mounts: [JSONValue], _ wanted: [(String, String, Bool)]) -> [JSONValue] {
        var mounts = mounts
        for (name, path, readOnly) in wanted where !mounts.contains(where: { $0["mountPath"]?.stringValue == path }) {
            var mount: JSONObject = ["name": .string(name), "mountPath": .string(path)]
            if readOnly { mount["readOnly"] = true }
            mounts.append(.object(mount))
        }
        return mounts
    }
}
