import CofferRotation
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
}
