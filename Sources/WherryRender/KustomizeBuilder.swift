import Foundation
import WherryExec
public import WherryModel

/// Builds a kustomization with `kubectl kustomize`, the kustomize that ships inside kubectl.
public struct KustomizeBuilder: Sendable {
    /// The kubectl program: a name on `PATH` or a path.
    public var kubectl: String
    /// Longest a build may take.
    public var timeout: Duration

    public init(kubectl: String = "kubectl", timeout: Duration = .seconds(90)) {
        self.kubectl = kubectl
        self.timeout = timeout
    }

    /// File names that make a directory a kustomization, in kustomize's order of preference.
    public static let fileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// Builds `directory` and returns its objects. `displayPath` names the directory in messages.
    public func build(directory: String, displayPath: String) async throws(RenderFailure) -> [KubeObject] {
        let kustomizationFile = Self.fileNames.first { fileExists("\(directory)/\($0)") } ?? Self.fileNames[0]
        let here = SourceLocation(file: "\(displayPath)/\(kustomizationFile)")
        let result: CommandResult
        do {
            result = try await CommandRunner.run(
                Command(kubectl, ["kustomize", directory], timeout: timeout, outputLimit: 256 << 20))
        } catch {
            let message =
                error.kind == .notFound
                ? "kubectl is needed to build this kustomization (it bundles kustomize) but '\(kubectl)' was not found; install kubectl"
                : "kustomize build failed: \(error)"
            throw RenderFailure(RenderIssue(location: here, message: message))
        }
        guard result.succeeded else {
            let detail = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                .replacing(directory, with: displayPath)
            throw RenderFailure(RenderIssue(location: here, message: "kustomize build failed: \(detail)"))
        }
        // Objects from kustomize point at the kustomization; their own files are not known.
        let objects = try ManifestReader.objects(from: result.stdoutText, file: "\(displayPath) (kustomize build)")
        return objects.map { KubeObject(body: $0.body, source: here) }
    }
}
