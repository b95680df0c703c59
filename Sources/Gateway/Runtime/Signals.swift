import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// POSIX signals as an async sequence (SIGTERM/SIGINT to stop, SIGHUP to reload).
public enum Signals {
    public static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = signals.map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            let holder = SourceHolder(sources)
            continuation.onTermination = { _ in holder.cancel() }
        }
    }
}

/// Keeps the dispatch sources alive for as long as the stream is; DispatchSource objects are
/// thread-safe but not declared Sendable.
private final class SourceHolder: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
