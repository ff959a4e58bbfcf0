import CofferRotation
import Foundation
import Synchronization
import Testing

/// `Concurrently`: work split over threads, each part run exactly once, results back in place.
@Suite struct ConcurrentlyTests {
    @Test(arguments: [1, 2, 3, 8])
    func everyPartRunsOnceAndIsDoneWhenForEachPartReturns(count: Int) {
        let runs = Mutex([Int](repeating: 0, count: count))
        Concurrently.forEachPart(count) { part in runs.withLock { $0[part] += 1 } }
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: count))
    }

    @Test(arguments: [false, true])
    func bothReturnsEachSidesResult(parallel: Bool) {
        let numbers = Array(1...100_000)
        let (sum, text) = Concurrently.both(parallel, { numbers.reduce(0, +) }, { String(numbers.count) })
        #expect(sum == 5_000_050_000)
        #expect(text == "100000")
    }

    /// As many as the CPUs `taskset` or a cpuset leaves this thread (Linux lists them in
    /// /proc/thread-self/status), not all those online: `taskset -c 0` makes it 1.
    @Test func usableCoresCountsTheCPUsThisThreadMayRunOn() throws {
        #if os(Linux)
        let status = try String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        let allowed = try list.split(separator: ",").reduce(0) { count, range in
            let bounds = try range.split(separator: "-").map { try #require(Int($0)) }
            return count + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
        #expect(Concurrently.usableCores == allowed)
        #endif
    }
}
