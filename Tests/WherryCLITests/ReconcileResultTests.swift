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
