import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryKube
import WherryModel
import WherryRender

/// `wherry install`: the Kubernetes objects that run Wherry in a cluster.
struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Deploy Wherry into a cluster (or, with --dry-run, print the YAML: `| kubectl apply -f -`).",
        discussion: """
            Makes Namespace (--namespace), ServiceAccount, least-privilege RBAC, ConfigMap wherry-config (the config \
            with every credential moved out), Secret wherry-secrets (inline tokens and the notification URL, token \
            and SSH files, and the values of the variables token_env, api_token_env and webhook_secret_env name, \
            read from this environment now), a Deployment of --replicas with leader election (or, with --daemonset, \
            the seed's DaemonSet on nodes labelled node-role.nokube.io/management=true), a Service for the API on \
            port 8080, and a PersistentVolumeClaim when --state-volume-size is given. The Pod runs as non-root with \
            a read-only root file system, probes /healthz and /readyz, and has resource requests and limits. Without \
            --dry-run the objects are applied with Wherry's own server-side apply.

            Examples:
              wherry install --cluster-name prod --config-file gitops-config.yaml --dry-run | kubectl apply -f -
              wherry install --cluster-name prod --config-file gitops-config.yaml --sops-age-key-file age.key
            """
    )

    @Option(help: "Name of the cluster: a label on every object, and WHERRY_CLUSTER_NAME in the Pod.")
    var clusterName: String

    @Option(
        name: [.customLong("config-file"), .customShort("c"), .customLong("config")],
        help: "The gitops-config.yaml to install.")
    var configFile: String

    @Flag(help: "Print the objects as YAML; apply nothing.")
    var dryRun = false

    @Option(help: "The Wherry container image.")
    var image = "ghcr.io/wherry-dev/wherry:\(WherryVersion.current)"

    @Option(help: "Replicas of the Deployment; more than one elect a leader through a Lease.")
    var replicas = 2

    @Flag(help: "Run as the seed's DaemonSet on management nodes instead of a Deployment.")
    var daemonset = false

    @Option(
        help: "Keep the state on a PersistentVolumeClaim of this size (e.g. 1Gi; one replica then), not an emptyDir.")
    var stateVolumeSize: String?

    @Option(help: "Restrict Wherry to these namespaces (comma-separated): Roles instead of a ClusterRole.")
    var namespaces: String?

    @Flag(help: "Let Wherry apply Roles and ClusterRoles granting more than it holds (adds bind and escalate).")
    var manageRBAC = false

    @Option(
        help: """
            An age key file (age-keygen's output) for SOPS-encrypted manifests: kept in the Secret as \
            WHERRY_SOPS_AGE_KEY, which every decryption block of the config then reads (repositories without one \
            get decryption: {provider: sops, age_key_env: WHERRY_SOPS_AGE_KEY}).
            """)
    var sopsAgeKeyFile: String?

    @OptionGroup var kube: KubeOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard replicas >= 1 else { throw ValidationError("--replicas must be at least 1") }
        let labelValue =
            !clusterName.isEmpty && clusterName.count <= 63
            && clusterName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        guard labelValue else {
            throw ValidationError("--cluster-name must be a label value: letters, digits, '-', '_', '.', at most 63")
        }
    }

    func run() async throws {
        logging.bootstrap()
        do {
            _ = try ConfigLoader.load(path: configFile)
        } catch {
            for issue in error.issues { Terminal.error(issue.description) }
            Terminal.error("\(configFile): fix the config before installing; nothing was done")
            throw ExitStatus.usage.code
        }
        guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else {
            Terminal.error("\(configFile) cannot be read")
            throw ExitStatus.usage.code
        }
        var options = InstallOptions(clusterName: clusterName, image: image)
        options.namespace = kube.namespace
        options.replicas = replicas
        options.daemonSet = daemonset
        options.stateVolumeSize = stateVolumeSize
        options.namespaces = (namespaces ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        options.manageRBAC = manageRBAC
        if let sopsAgeKeyFile {
            guard let key = FileManager.default.contents(atPath: sopsAgeKeyFile),
                String(decoding: key, as: UTF8.self).contains("AGE-SECRET-KEY-")
            else {
                Terminal.error(
                    "--sops-age-key-file \(sopsAgeKeyFile) cannot be read or holds no AGE-SECRET-KEY-1… line")
                throw ExitStatus.usage.code
            }
            options.sopsAgeKey = Redacted(Array(key))
        }
        let plan: InstallPlan
        do {
            plan = try InstallManifests.plan(
                configText: text, configFile: configFile, options: options,
                environment: ProcessInfo.processInfo.environment,
                readFile: { FileManager.default.contents(atPath: $0).map(Array.init) })
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.failure.code
        }
        for warning in plan.warnings { Terminal.error("warning: \(warning)") }
        if dryRun {
            print(YAMLWriter.stream(plan.objects), terminator: "")
            return
        }
        let (api, _) = try kube.connect(logger: Logger(label: "wherry.kube"))
        let manager = ResourceManager(api: api, logger: Logger(label: "wherry.apply"))
        do {
            let changes = try await manager.apply(
                plan.objects, options: ApplySetOptions(defaultNamespace: kube.namespace, concurrency: kube.concurrency))
            for entry in changes.entries { print(entry) }
            print("wherry installed in namespace \(kube.namespace): \(changes.summary)")
        } catch {
            Terminal.error("\(error)")
            await api.shutdown()
            throw ExitStatus.failure.code
        }
        await api.shutdown()
    }
}
