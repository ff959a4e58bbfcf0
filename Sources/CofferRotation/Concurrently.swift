internal import CThreadPlacement
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU work of a large vault split over threads: plain POSIX threads, each started on another
/// CPU than the caller's (`coffer_thread_start_elsewhere`), not Dispatch's pool: starting the
/// pool cost about as much as the milliseconds of work this is for, and a thread left where
/// Linux first puts it often waited behind its creator.
public enum Concurrently {
    /// Work over at least this many bytes (hashing, writing a vault) is worth a second thread;
    /// below it, starting the thread costs more than it saves.
    public static let worthwhileBytes = 256 * 1024

    /// `first()` on the calling thread while `second()` runs on a new thread (one after the
    /// other when `parallel` is false); returns when both have finished.
    public static func both<A, B>(_ parallel: Bool, _ first: () -> A, _ second: () -> B) -> (A, B) {
        guard parallel else { return (first(), second()) }
        var a: A?, b: B?
        // Each part writes its own variable; `forEachPart` returns after both parts have ended.
        forEachPart(2) { part in
            if part == 0 { a = first() } else { b = second() }
        }
        guard let a, let b else { preconditionFailure("both parts have run") }
        return (a, b)
    }

    /// `body(part)` for every part in `0..<count`: part 0 on the calling thread, each other on a
    /// thread of its own (or, when no thread can be started, on the calling thread after part
    /// 0); returns when every part has finished.
    public static func forEachPart(_ count: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let threads = (1..<max(count, 1)).map { part in start { body(part) } }
            body(0)
            for (offset, thread) in threads.enumerated() {
                if let thread { pthread_join(thread, nil) } else { body(offset + 1) }
            }
        }
    }

    /// The number of CPUs this process may run on (its affinity: `taskset`, a container's
    /// cpuset), else the number online; at least 1. Helper threads run only on the CPUs the
    /// caller may use, so more parts than these would queue behind one another.
    public static var usableCores: Int {
        let usable = Int(coffer_usable_cpu_count())
        return usable > 0 ? usable : max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
    }

    /// `work` on a new thread, or nil when none could be started (then `work` has not run).
    private static func start(_ work: @escaping () -> Void) -> pthread_t? {
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        var thread = pthread_t()
        guard coffer_thread_start_elsewhere(&thread, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context) == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            return nil
        }
        return thread
    }

    /// A part's work, handed to its thread. Unchecked: the thread only runs it, and whatever it
    /// writes the caller reads after `pthread_join`.
    private final class Work: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}
