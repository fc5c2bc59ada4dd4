import CWherryHeap
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Gives the heap's free pages back to the system while `wherry run` works.
///
/// glibc's allocator keeps what a burst of work freed (a thousand applies, their responses and renders) inside its
/// per-thread arenas: freed memory in the middle of an arena stays resident until `malloc_trim` releases it. At a
/// thousand services that was half the private memory: 65 MB resident for 29 MB in use. Every ``interval`` the
/// trimmer compares the private resident memory with what the heap has in use, and trims when the difference grew
/// by more than ``slack`` since the last trim (part of it is not the heap's: stacks, written data), so an idle
/// controller is not trimmed again and again for nothing.
final class HeapTrimmer: Service, Sendable {
    let interval: Duration
    /// Free resident memory the heap may gain before a trim is worth its cost (a few milliseconds, and page faults
    /// when that memory is used again).
    let slack: Int
    let logger: Logger
    /// What was left after the last trim: resident memory that holds no allocation and a trim did not give back.
    private let floor = Mutex(0)

    init(interval: Duration = .seconds(2), slack: Int = 8 << 20, logger: Logger = Logger(label: "wherry.memory")) {
        self.interval = interval
        self.slack = slack
        self.logger = logger
    }

    /// What the heap holds now.
    struct Usage: Equatable {
        /// Private resident memory of the process (heap, stacks, written data), in bytes.
        var resident: Int
        /// Bytes in use by allocations, the heap's own and those mapped on their own.
        var inUse: Int

        /// What a trim could give back, at most: resident memory that holds no allocation.
        var free: Int { max(0, resident - inUse) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: self.interval)) != nil {
                self.trimIfWorthwhile()
            }
        }
    }

    /// Trims when the free resident memory grew by more than ``slack`` since the last trim; returns the usage before and after, or
    /// `nil` when no trim was made.
    @discardableResult
    func trimIfWorthwhile() -> (before: Usage, after: Usage)? {
        guard let before = Self.usage(), before.free > floor.withLock({ $0 }) + slack else { return nil }
        Self.trim()
        let after = Self.usage() ?? before
        floor.withLock { $0 = after.free }
        logger.debug(
            "Heap trimmed",
            metadata: [
                "wherry.resident_mb": "\(before.resident >> 20) -> \(after.resident >> 20)",
                "wherry.in_use_mb": "\(before.inUse >> 20)",
            ])
        return (before, after)
    }

    /// The process's private resident memory and the allocator's bytes in use; `nil` where they cannot be read.
    static func usage() -> Usage? {
        let inUse = wherry_heap_in_use()
        guard inUse > 0, let resident = privateResident() else { return nil }
        return Usage(resident: resident, inUse: inUse)
    }

    /// Gives free pages of every arena back to the system.
    static func trim() {
        _ = wherry_heap_trim()
    }

    /// Resident pages that are not file-backed or shared (`/proc/self/statm`: resident minus shared), in bytes.
    static func privateResident() -> Int? {
        // procfs files have no size: read what there is (a line of seven numbers).
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " ")).compactMap {
            Int(String(decoding: $0, as: UTF8.self))
        }
        guard fields.count >= 3 else { return nil }
        return (fields[1] - fields[2]) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
