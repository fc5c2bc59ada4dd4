import Foundation
import Testing
import WherryRender
import WherryTesting

@Suite("What a render reads, found without rendering")
struct RenderInputsTests {
    private static let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"

    /// A checkout holding `files`, removed after `body`.
    private func withCheckout(
        _ files: [String: String], _ body: (TemporaryDirectory) throws -> Void
    ) throws {
        let root = try TemporaryDirectory(prefix: "inputs")
        defer { root.remove() }
        for (path, text) in files { try root.write(path, text) }
        try body(root)
    }

    @Test("a plain directory reads only itself")
    func plainDirectory() throws {
        try withCheckout(["app/cm.yaml": Self.configMap, "other/x.yaml": Self.configMap]) { root in
            let inputs = RenderInputs.collect(root: root.path, directory: "./app/")
            #expect(inputs.paths == ["app"])
            #expect(inputs.unpinned.isEmpty && inputs.escaping.isEmpty)
        }
    }

    @Test("an overlay reads its base, the base's own base, and its components, not their neighbours")
    func overlayBasesAndComponents() throws {
        try withCheckout([
            "overlays/staging/kustomization.yaml": """
            resources: [namespace.yaml, ../../base]
            components: [../../components/replicas]
            patches:
              - target: {kind: Deployment}
                patch: |-
                  - op: replace
                    path: /spec/replicas
                    value: 2
            """,
            "overlays/staging/namespace.yaml": Self.configMap,
            "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
            "base/kustomization.yaml": "bases: [../root-base]\nresources: [cm.yaml]\n",
            "base/cm.yaml": Self.configMap,
            "root-base/kustomization.yaml": "resources: []\n",
            "components/replicas/kustomization.yaml": "kind: Component\npatches: [{path: patch.yaml}]\n",
            "components/replicas/patch.yaml": "a: 1\n",
            "components/other/kustomization.yaml": "kind: Component\n",
        ]) { root in
            let inputs = RenderInputs.collect(root: root.path, directory: "overlays/staging")
            #expect(inputs.unpinned == [])
            #expect(inputs.paths == ["base", "components/replicas", "overlays/staging", "root-base"])
        }
    }

    @Test("patch, generator, replacement, CRD and OpenAPI files outside the directory are inputs")
    func filesOutside() throws {
        try withCheckout([
            "app/kustomization.yaml": """
            patchesStrategicMerge: [../shared/smp.yaml, "apiVersion: v1\\nkind: ConfigMap"]
            patchesJson6902: [{path: ../shared/json.yaml, target: {kind: ConfigMap, name: a}}]
            replacements: [{path: ../shared/replacement.yaml}]
            crds: [../shared/crd.yaml]
            openapi: {path: ../schemas/openapi.json}
            configMapGenerator:
              - name: settings
                files: [key=../shared/settings.txt, ../shared/plain.txt]
                envs: [../env/app.env]
            secretGenerator:
              - {name: s, env: ../env/secret.env}
            """,
            "shared/smp.yaml": "a: 1\n", "shared/json.yaml": "[]\n", "shared/replacement.yaml": "a: 1\n",
            "shared/crd.yaml": "a: 1\n", "shared/settings.txt": "x\n", "shared/plain.txt": "y\n",
            "shared/unused.txt": "z\n", "schemas/openapi.json": "{}\n", "env/app.env": "A=1\n",
            "env/secret.env": "B=2\n",
        ]) { root in
            let inputs = RenderInputs.collect(root: root.path, directory: "app")
            #expect(inputs.unpinned == [])
            #expect(
                inputs.paths == [
                    "app", "env/app.env", "env/secret.env", "schemas/openapi.json", "shared/crd.yaml",
                    "shared/json.yaml", "shared/plain.txt", "shared/replacement.yaml", "shared/settings.txt",
                    "shared/smp.yaml",
                ])
        }
    }

    @Test("symbolic links the walk follows bring their targets, also into kustomizations they lead to")
    func symlinkTargets() throws {
        try withCheckout([
            "app/cm.yaml": Self.configMap, "shared/cm.yaml": Self.configMap,
            "linked-dir/kustomization.yaml": "resources: [../far/x.yaml, ../far-base]\n",
            "far-base/kustomization.yaml": "resources: []\n", "configs/a.txt": "x\n", "data/b.txt": "y\n",
        ]) { root in
            try FileManager.default.createSymbolicLink(
                atPath: "\(root.path)/app/link.yaml", withDestinationPath: "../shared/cm.yaml")
            try FileManager.default.createSymbolicLink(
                atPath: "\(root.path)/app/sub", withDestinationPath: "../linked-dir")
            try FileManager.default.createSymbolicLink(atPath: "\(root.path)/app/self", withDestinationPath: ".")
            try FileManager.default.createSymbolicLink(
                atPath: "\(root.path)/configs/b.txt", withDestinationPath: "../data/b.txt")
            try FileManager.default.createSymbolicLink(atPath: "\(root.path)/app/outside", withDestinationPath: "/etc")
            try root.write("far/x.yaml", Self.configMap)
            let inputs = RenderInputs.collect(root: root.path, directory: "app", configDirectory: "configs")
            #expect(inputs.unpinned == [])
            #expect(
                inputs.paths == [
                    "app", "configs", "data/b.txt", "far-base", "far/x.yaml", "linked-dir", "shared/cm.yaml",
                ])
        }
    }

    @Test("remote resources, missing paths, Helm charts and unreadable kustomizations cannot be pinned")
    func unpinned() throws {
        let cases: [(String, String)] = [
            ("resources: [https://github.com/org/repo//deploy?ref=v1]\n", "is remote"),
            ("resources: [github.com/org/repo/deploy]\n", "is remote"),
            ("components: [../nowhere]\n", "does not exist in the repository"),
            ("helmCharts: [{name: redis, repo: https://charts.example}]\n", "Helm charts"),
            ("resources: [\n", "cannot be read as YAML"),
        ]
        for (kustomization, reason) in cases {
            try withCheckout(["app/kustomization.yaml": kustomization]) { root in
                let inputs = RenderInputs.collect(root: root.path, directory: "app")
                #expect(inputs.unpinned.count == 1)
                #expect(inputs.unpinned.first?.contains(reason) == true, "\(inputs.unpinned)")
                #expect(inputs.unpinned.first?.hasPrefix("app/kustomization.yaml: ") == true)
            }
        }
    }

    @Test("references that leave the repository are named, as text or through a link")
    func escaping() throws {
        try withCheckout(["repo/app/kustomization.yaml": "resources: [../../other, ../link, /etc]\n", "other/x": ""]) {
            outer in
            try FileManager.default.createSymbolicLink(atPath: "\(outer.path)/repo/link", withDestinationPath: "/tmp")
            let root = "\(outer.path)/repo"
            let inputs = RenderInputs.collect(root: root, directory: "app")
            #expect(inputs.paths == ["app"])
            #expect(
                inputs.escaping.map(\.description) == [
                    "app/kustomization.yaml: ../../other", "app/kustomization.yaml: ../link",
                    "app/kustomization.yaml: /etc",
                ])
            #expect(inputs.unpinned.count == 3)
            #expect(RenderInputs.escapingReferences(root: root, kustomizationDirectory: "app") == inputs.escaping)
        }
    }

    @Test("a cycle of kustomizations and links in a circle end")
    func cycle() throws {
        try withCheckout([
            "svc/app/kustomization.yaml": "resources: [../../b]\n",
            "b/kustomization.yaml": "resources: [../svc/app, ../b]\n",
        ]) { root in
            let links = ["svc/loop": "loop", "svc/here": ".", "svc/ping": "pong", "svc/pong": "ping"]
            for (link, target) in links {
                try FileManager.default.createSymbolicLink(
                    atPath: "\(root.path)/\(link)", withDestinationPath: target)
            }
            let inputs = RenderInputs.collect(root: root.path, directory: "svc")
            #expect(inputs.paths == ["b", "svc"])
            #expect(inputs.unpinned == [])
        }
    }

    @Test("a reference to the repository root covers everything")
    func rootReference() throws {
        try withCheckout(["app/kustomization.yaml": "resources: [..]\n", "kustomization.yaml": "resources: []\n"]) {
            root in
            #expect(RenderInputs.collect(root: root.path, directory: "app").paths == [""])
        }
    }
}
