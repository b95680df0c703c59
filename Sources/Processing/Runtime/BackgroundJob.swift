import Dispatch
import Journal
import Synchronization

/// One journal job run on a queue while the caller does other work, then waited for: the
/// processor commits a batch this way while it prepares the next.
final class BackgroundJob<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, JournalError>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(on queue: DispatchQueue, _ body: @escaping @Sendable () throws(JournalError) -> Value) {
        queue.async { [self] in
            let outcome = Result(catching: body)
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Blocks until the job ran; its value, or the error it threw.
    func wait() throws(JournalError) -> Value {
        done.wait()
        // Set before the signal: never nil here.
        guard let outcome = result.withLock({ $0 }) else { preconditionFailure("a BackgroundJob signalled without a result") }
        return try outcome.get()
    }
}
