import Foundation
import Logging
import WherryKube
import WherryModel

// Measures Wherry's own cost of applying N objects with server-side apply: wall time and, separately, the CPU
// time of this process only (the fake API server runs in its own process); then a drift check of the unchanged
// objects, and one after 1% of them were changed by hand, with the requests each made. Run on purpose:
//   swift build -c release --product wherry-fake-apiserver && swift run -c release wherry-bench-apply [N]
// or against a real cluster (creates and deletes namespaces bench-0..3):
//   swift run -c release wherry-bench-apply N KUBECONFIG
let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1000
let kubeconfig = CommandLine.arguments.dropFirst(2).first
let namespaces = 4

/// Counts requests by kind, to report requests per object.
final class CountingAPI: KubeAPI, @unchecked Sendable {
    let base: any KubeAPI
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    init(_ base: any KubeAPI) { self.base = base }
    var server: String { base.server }
    func count(_ kind: String) { lock.withLock { counts[kind, default: 0] += 1 } }
    func take() -> [String: Int] {
        lock.withLock {
            defer { counts = [:] }; return counts
        }
    }
    func get(_ path: String) async throws(KubeAPIError) -> JSONValue {
        count("get")
        return try await base.get(path)
    }
    func list(_ path: String, labelSelector: String?) async throws(KubeAPIError) -> [JSONValue] {
        count("list")
        return try await base.list(path, labelSelector: labelSelector)
    }
    func apply(_ path: String, object: JSONValue, options: ApplyOptions) async throws(KubeAPIError) -> ApplyResponse {
        count(options.dryRun ? "dry-run" : "write")
        return try await base.apply(path, object: object, options: options)
    }
    func create(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue {
        count("write")
        return try await base.create(path, object: object, fieldManager: fieldManager)
    }
    func update(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue {
        count("write")
        return try await base.update(path, object: object, fieldManager: fieldManager)
    }
    func delete(_ path: String, options: DeleteOptions) async throws(KubeAPIError) {
        count("delete")
        try await base.delete(path, options: options)
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func maxRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func object(_ json: String) -> KubeObject {
    var object = KubeObject(body: try! JSONValue.parse(json).objectValue!)
    object.setLabels(WherryLabels.ownership(service: "bench"))
    return object
}

var objects = (0..<namespaces).map {
    object(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench-\#($0)"}}"#)
}
for index in 0..<((count - namespaces) / 3) {
    let ns = "bench-\(index % namespaces)"
    objects.append(
        object(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-\#(index)","namespace":"\#(ns)"},"data":{"key":"value-\#(index)"}}"#
        ))
    objects.append(
        object(
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-\#(index)","namespace":"\#(ns)"},"spec":{"selector":{"app":"a\#(index)"},"ports":[{"port":80,"targetPort":8080}]}}"#
        ))
    objects.append(
        object(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app-\#(index)","namespace":"\#(ns)"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"a\#(index)"}},"template":{"metadata":{"labels":{"app":"a\#(index)"}},"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9"}]}}}}"#
        ))
}

var logger = Logger(label: "bench")
logger.logLevel = .critical
let connection: KubeConnection
var fake: (process: Process, input: Pipe)?
if let kubeconfig {
    connection = try KubeConnection(KubeConfigLoader().load(explicitPath: kubeconfig))
} else {
    let server = Process()
    server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("wherry-fake-apiserver")
    guard FileManager.default.isExecutableFile(atPath: server.executableURL!.path) else {
        FileHandle.standardError.write(
            Data("build the fake API server first: swift build -c release --product wherry-fake-apiserver\n".utf8))
        exit(2)
    }
    let input = Pipe()
    let output = Pipe()
    server.standardInput = input
    server.standardOutput = output
    try server.run()
    guard
        let line = String(data: output.fileHandleForReading.availableData, encoding: .utf8)?.split(separator: "\n")
            .first
    else { fatalError("the fake API server did not start") }
    connection = KubeConnection(server: String(line))
    fake = (server, input)
}
let api = try HTTPKubeAPI(
    connection: connection, options: KubeClientOptions(qps: 0, maxConnections: 32), logger: logger)
let counting = CountingAPI(api)
let manager = ResourceManager(api: counting, logger: logger)
var options = ApplySetOptions(liveSelector: "\(WherryLabels.service)=bench", concurrency: 32)
print("objects: \(objects.count) on \(kubeconfig == nil ? "FakeAPIServer" : connection.server)")

@MainActor
func measure(_ phase: String) async throws {
    _ = counting.take()
    let (cpuBefore, started) = (cpuSeconds(), ContinuousClock.now)
    let changes = try await manager.apply(objects, options: options)
    let wall = ContinuousClock.now - started
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let cpu = cpuSeconds() - cpuBefore
    let requests = counting.take()
    let total = requests.values.reduce(0, +)
    print(
        String(
            format: "%@: %.2f s wall, %.0f objects/s, Wherry CPU %.3f ms/object (%@); %d requests = %.3f per object %@",
            phase, seconds, Double(objects.count) / seconds, cpu * 1000 / Double(objects.count), changes.summary,
            total, Double(total) / Double(objects.count), requests.sorted { $0.key < $1.key }.description))
}

try await measure("cold apply")
try await measure("second apply")
options.driftCheck = true
try await measure("drift check, nothing drifted")
// 1% of the ConfigMaps changed by hand, by another field manager.
let edited = objects.filter { $0.kind == "ConfigMap" }.prefix(max(1, objects.count / 100))
for object in edited {
    var body = object.body
    body["data"] = ["key": "edited by hand"]
    body["metadata"] = ["name": .string(object.name), "namespace": .string(object.namespace)]
    _ = try await api.apply(
        "/api/v1/namespaces/\(object.namespace)/configmaps/\(object.name)", object: .object(body),
        options: ApplyOptions(fieldManager: "kubectl-edit", force: true))
}
try await measure("drift check, \(edited.count) drifted")
print(String(format: "max RSS of the Wherry process: %.1f MB", maxRSSMegabytes()))
if kubeconfig != nil {
    for index in 0..<namespaces { try? await api.delete("/api/v1/namespaces/bench-\(index)", options: DeleteOptions()) }
}
await api.shutdown()
if let fake {
    fake.input.fileHandleForWriting.closeFile()
    fake.process.waitUntilExit()
}
