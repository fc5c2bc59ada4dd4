import Foundation
import Testing

@testable import wherry

/// `wherry run` gives the heap's free pages back to the system (glibc keeps what a burst of work freed).
@Suite("run: heap trimming")
struct HeapTrimmerTests {
    @Test("what a trim could give back is resident memory holding no allocation, never below zero")
    func freeBytes() {
        #expect(HeapTrimmer.Usage(resident: 40 << 20, inUse: 25 << 20).free == 15 << 20)
        #expect(HeapTrimmer.Usage(resident: 10 << 20, inUse: 12 << 20).free == 0)
    }

    #if canImport(Glibc)
        @Test("memory freed in the middle of the heap stays resident until the trimmer gives it back")
        func trims() throws {
            let blocks = 64 * 1024
            let size = 512
            // 32 MB of small blocks, written so that their pages are resident, then a block after them that stays
            // allocated, so that freeing them cannot simply shrink the heap from its end.
            var pointers: [UnsafeMutableRawPointer] = []
            pointers.reserveCapacity(blocks)
            for _ in 0..<blocks {
                let pointer = try #require(malloc(size))
                memset(pointer, 1, size)
                pointers.append(pointer)
            }
            let pin = try #require(malloc(size))
            defer { free(pin) }
            for pointer in pointers { free(pointer) }
            pointers = []

            #expect(HeapTrimmer(slack: .max).trimIfWorthwhile() == nil, "more slack than memory: no trim")
            let before = try #require(HeapTrimmer.usage())
            #expect(before.free > 24 << 20, "the freed blocks are still resident")
            let trimmer = HeapTrimmer(slack: 8 << 20)
            let trimmed = try #require(trimmer.trimIfWorthwhile())
            #expect(trimmed.before.resident - trimmed.after.resident > 24 << 20)
            // What the trim left is the new floor: not trimmed again until as much is freed once more.
            #expect(trimmer.trimIfWorthwhile() == nil)
        }
    #endif
}
