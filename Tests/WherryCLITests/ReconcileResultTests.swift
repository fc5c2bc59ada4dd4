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

/// The text log format never lets a value break its line or drive the terminal.
@Suite("text log escaping")
struct TextLogEscapingTests {
    @Test("ESC, NUL, U+0085, U+2028, U+2029, U+200E and CRLF are escaped in messages and values")
    func controlCharacters() {
        let hostile = "a\u{1B}[31mred\u{0}b\u{85}c\u{2028}d\u{2029}e\u{200E}f\r\ng"
        for text in [TextLogHandler.escaped(hostile), TextLogHandler.quoted(hostile)] {
            #expect(
                !text.unicodeScalars.contains { scalar in
                    switch scalar.properties.generalCategory {
                    case .control, .format, .lineSeparator, .paragraphSeparator: true
                    default: false
                    }
                }, "\(text.debugDescription)")
        }
        #expect(TextLogHandler.escaped(hostile) == #"a\u{1B}[31mred\u{0}b\u{85}c\u{2028}d\u{2029}e\u{200E}f\r\ng"#)
        // A value with an escape character alone is quoted too (it used to pass as a plain word).
        #expect(TextLogHandler.quoted("x\u{1B}y") == #""x\u{1B}y""#)
        #expect(TextLogHandler.quoted("plain") == "plain")
    }
}

/// `wherry wait` in a CI pipeline outlives a controller that is restarting.
@Suite("wait: a controller not answering yet")
struct WaitUnavailableTests {
    @Test("a controller that does not answer is tried again until the timeout, not a failure at once")
    func retriedUntilTimeout() async throws {
        let started = ContinuousClock.now
        let output = try await CLI.run(
            ["wait", "shop", "--server", "127.0.0.1:9", "--timeout", "2s", "--interval", "0.2"])
        #expect(output.exitCode == 1, "\(output.all)")
        #expect(ContinuousClock.now - started >= .seconds(2), "\(output.all)")
        #expect(output.stderr.contains("trying again until the timeout"), "\(output.all)")
        #expect(output.stderr.contains("timed out after 2s"), "\(output.all)")
    }
}
