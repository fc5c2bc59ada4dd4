import Foundation
import WherryTesting

// Serves a FakeAPIServer on 127.0.0.1 for benchmarks: prints its URL, then runs until standard input closes.
try await FakeAPIServer.withServer { server in
    FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
    while readLine() != nil {}
}
