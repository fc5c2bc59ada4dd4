import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel

extension ConvergenceScenarios {
    /// A stateless service with a config directory applies as the server accepts it: the mutated Deployment (init
    /// container, mounts, env) and ConfigMap `<service>-config`; a config change rolls the pod template.
    public func statelessServiceApplies() async throws {
        try await withHarness(
            services: service("web", "config_dir: configs, stateless: true"),
            files: [
                "web/deploy.yaml": deployment("web"), "configs/app.json": "{\"port\": 8000}\n",
                "configs/settings.ini": "mode=fast\n",
            ],
            topLevel: "download_base_url: http://wherry.wherry-system:8080\n"
        ) { harness in
            let first = Self.changes(try await harness.sync()["web"])
            #expect(first.contains("ConfigMap/\(namespace)/web-config created"), "\(first)")
            #expect(first.contains("Deployment/\(namespace)/web created"), "\(first)")
            let live = try await api.get(path("deployments", "web", group: "apps"))
            let pod = live["spec"]?["template"]?["spec"]
            #expect(pod?["initContainers"]?.arrayValue?.first?["name"] == "wherry-fetch")
            let env = pod?["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
            #expect(
                env.contains { $0["name"] == "DOWNLOAD_BASE_URL" && $0["value"] == "http://wherry.wherry-system:8080" })
            let hash = live["spec"]?["template"]?["metadata"]?["annotations"]?["wherry.dev/config-hash"]
            #expect(hash != nil)
            let configMap = try await api.get(path("configmaps", "web-config"))
            #expect(configMap["data"]?["app.json"] == "{\"port\": 8000}\n")
            // Unchanged: nothing written. A config change: the ConfigMap and the pod template change.
            let second = Self.changes(try await harness.sync()["web"])
            #expect(second.allSatisfy { $0.hasSuffix(" unchanged") || $0.hasSuffix(" skipped") }, "\(second)")
            try await harness.remote.commit(["configs/settings.ini": "mode=safe\n"])
            let third = Self.changes(try await harness.sync()["web"])
            #expect(third.contains("ConfigMap/\(namespace)/web-config configured"), "\(third)")
            #expect(third.contains("Deployment/\(namespace)/web configured"), "\(third)")
            let rolled = try await api.get(path("deployments", "web", group: "apps"))
            #expect(rolled["spec"]?["template"]?["metadata"]?["annotations"]?["wherry.dev/config-hash"] != hash)
        }
    }
}
