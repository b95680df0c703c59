import Dispatch

/// Blocking work (a journal commit or checkpoint, joining the MQTT network thread) on a thread
/// of its own, off Swift's cooperative pool. A cancelled caller stops waiting for it, so a
/// bounded shutdown ends even while a stuck disk holds the work; the work itself goes on until
/// the process exits.
enum Blocking {
    static func run(_ work: @escaping @Sendable () throws -> Void) async throws {
        guard !Task.isCancelled else { throw CancellationError() }
        let once = OnceContinuation<Result<Void, any Error>>()
        try await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                once.set(continuation)
                DispatchQueue.global().async { once.resume(Result { try work() }) }
            }
        } onCancel: {
            once.resume(.failure(CancellationError()))
        }.get()
    }
}
