import Foundation
import Testing
import WherryTesting

/// `wherry run` claims its state directory and its listen address before anything else.
@Suite("wherry run: state directory lock and listen address")
struct RunStartupTests {
    @Test("a second run on the same state dir exits 2 naming the first's pid; a port in use or a foreign address too")
    func claims() async throws {
        try await FakeAPIServer.withServer { server in
            let control = try await ControlledWherry.start(server, name: "startup")
            defer { control.remove() }
            let pid = control.wherry.process.processIdentifier
            let arguments = ["run", "-c", control.config, "--kubeconfig", control.kubeconfig]

            let second = try await CLI.run(
                arguments + ["--state-dir", control.work.path + "/state", "--listen", "127.0.0.1:0"])
            #expect(second.exitCode == 2, "\(second.all)")
            #expect(second.stderr.contains("in use by another wherry run (process \(pid))"), "\(second.all)")
            #expect(second.stderr.contains("--state-dir"), "\(second.all)")

            let busy = try await CLI.run(
                arguments + ["--state-dir", control.work.path + "/other", "--listen", control.address])
            #expect(busy.exitCode == 2, "\(busy.all)")
            #expect(
                busy.stderr.contains("--listen \(control.address): port \(control.wherry.port) is already in use"),
                "\(busy.all)")
            #expect(!busy.all.contains("Cannot read the stored inventories"), "\(busy.all)")
            #expect(busy.stderr.split(separator: "\n").count == 1, "\(busy.all)")

            let foreign = try await CLI.run(
                arguments + ["--state-dir", control.work.path + "/other", "--listen", "192.0.2.1:8080"])
            #expect(foreign.exitCode == 2, "\(foreign.all)")
            #expect(
                foreign.stderr.contains("--listen 192.0.2.1:8080: 192.0.2.1 is not an address of this host"),
                "\(foreign.all)")
            #expect(foreign.stderr.split(separator: "\n").count == 1, "\(foreign.all)")

            // The lock goes with the process: once it stopped, the directory can be used again.
            control.wherry.kill()
            _ = try await control.wherry.exit(within: 10)
            let again = try await RunningWherry.start(
                [
                    "-c", control.config, "--kubeconfig", control.kubeconfig, "--state-dir",
                    control.work.path + "/state", "--listen", "127.0.0.1:0",
                ], work: control.work, name: "startup-2", environment: ["CONTROL_TEST_TOKEN": "x"])
            again.kill()
        }
    }
}
