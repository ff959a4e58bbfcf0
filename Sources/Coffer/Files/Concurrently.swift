#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Two independent pieces of work at once.
enum Concurrently {
    /// `first()` on the calling thread while `second()` runs on a new POSIX thread (one after the
    /// other when `parallel` is false or no thread can be started); returns when both have
    /// finished. A plain thread, not Dispatch: starting Dispatch's pool cost about as much as
    /// the millisecond of work this is for.
    static func both<A, B>(_ parallel: Bool, _ first: () -> A, _ second: () -> B) -> (A, B) {
        guard parallel else { return (first(), second()) }
        return withoutActuallyEscaping(second) { second in
            let job = Job(second)
            let context = Unmanaged<AnyObject>.passRetained(job).toOpaque()
            var thread = pthread_t()
            guard pthread_create(&thread, nil, { context in
                (Unmanaged<AnyObject>.fromOpaque(context!).takeRetainedValue() as! BackgroundWork).run()
                return nil
            }, context) == 0 else {
                Unmanaged<AnyObject>.fromOpaque(context).release()
                job.run()
                return (first(), job.finished())
            }
            let a = first()
            pthread_join(thread, nil)
            return (a, job.finished())
        }
    }
}

private protocol BackgroundWork: AnyObject {
    func run()
}

/// `second` and its result. Unchecked: the thread writes `result` and drops `work` before it
/// ends, and the calling thread reads `result` only after `pthread_join`.
private final class Job<B>: BackgroundWork, @unchecked Sendable {
    private var work: (() -> B)?
    private var result: B?

    init(_ work: @escaping () -> B) { self.work = work }

    func run() {
        result = work?()
        work = nil
    }

    func finished() -> B {
        guard let result else { preconditionFailure("run() has returned") }
        return result
    }
}
