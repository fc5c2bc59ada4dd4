import Foundation
import Logging
import WherryKube
import WherryModel

// Measures Wherry's own cost of applying N objects with server-side apply: wall time and, separately, the CPU
// time of this process only (the fake API server runs in its own process). Run on purpose:
//   swift build -c release --product wherry-fake-apiserver && swift run -c release wherry-bench-apply [N]
let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1000
let namespaces = 4

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
guard let line = String(data: output.fileHandleForReading.availableData, encoding: .utf8)?.split(separator: "\n").first
else { fatalError("the fake API server did not start") }

var logger = Logger(label: "bench")
logger.logLevel = .critical
let api = try HTTPKubeAPI(
    connection: KubeConnection(server: String(line)), options: KubeClientOptions(qps: 0, maxConnections: 16),
    logger: logger)
let manager = ResourceManager(api: api, logger: logger)
let options = ApplySetOptions(liveSelector: "\(WherryLabels.service)=bench", concurrency: 8)
print("objects: \(objects.count)")
for phase in ["cold", "second"] {
    let (cpuBefore, started) = (cpuSeconds(), ContinuousClock.now)
    let changes = try await manager.apply(objects, options: options)
    let wall = ContinuousClock.now - started
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let cpu = cpuSeconds() - cpuBefore
    print(
        String(
            format: "%@ apply: %.2f s wall, %.0f objects/s, Wherry CPU %.3f ms/object (%@)", phase, seconds,
            Double(objects.count) / seconds, cpu * 1000 / Double(objects.count), changes.summary))
}
print(String(format: "max RSS of the Wherry process: %.1f MB", maxRSSMegabytes()))
await api.shutdown()
input.fileHandleForWriting.closeFile()
server.waitUntilExit()
