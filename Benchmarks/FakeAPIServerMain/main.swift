import Foundation
import WherryTesting

// Serves a FakeAPIServer on 127.0.0.1 for benchmarks: prints its URL, then, for every line read from standard
// input, the number of requests it has answered (`requests N`, and `writes N` for non-dry-run applies); it stops
// when standard input closes.
try await FakeAPIServer.withServer { server in
    FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
    while readLine() != nil {
        let requests = server.requests
        let writes = requests.filter { $0.method == "PATCH" && $0.query["dryRun"] == nil }.count
        FileHandle.standardOutput.write(Data("requests \(requests.count) writes \(writes)\n".utf8))
    }
}
