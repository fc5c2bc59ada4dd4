import Testing
import WherryModel

@testable import wherry

/// Which results of `wherry reconcile --wait` exit 0.
@Suite("reconcile --wait: results")
struct ReconcileResultTests {
    @Test("succeeded, unchanged and superseded exit 0; failed, cancelled, suspended and unknown ones do not")
    func results() {
        for result in ["succeeded", "unchanged", "superseded"] {
            #expect(ReconcileSummary.succeeded(.object(["result": .string(result)])), "\(result)")
        }
        for result in ["failed", "cancelled", "suspended", "something-new"] {
            #expect(!ReconcileSummary.succeeded(.object(["result": .string(result)])), "\(result)")
        }
        #expect(!ReconcileSummary.succeeded(.object([:])))
    }
}

/// `--timeout` and `--interval` values that would overflow the clock are usage errors, not crashes.
@Suite("wait/reconcile: time limits")
struct WaitLimitTests {
    @Test("--timeout inf or 1e20, and --interval inf, exit 2 with a message naming the option")
    func limits() async throws {
        let server = ["--server", "127.0.0.1:9"]
        for arguments in [
            ["wait", "shop", "--timeout", "inf"], ["wait", "shop", "--timeout", "1e20"],
            ["reconcile", "shop", "--wait", "--timeout", "inf"], ["wait", "shop", "--interval", "inf"],
            ["wait", "shop", "--interval", "1e300"],
        ] {
            let output = try await CLI.run(arguments + server)
            #expect(output.exitCode == 2, "\(arguments): \(output.all)")
            #expect(output.stderr.contains(arguments[arguments.count - 2]), "\(arguments): \(output.all)")
        }
    }
}
