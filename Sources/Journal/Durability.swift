/// How much a committed record survives.
public enum Durability: String, Sendable, CaseIterable {
    /// WAL with synchronous=NORMAL: survives a process crash (kill -9), may lose the last
    /// commits on power loss.
    case process
    /// synchronous=FULL: survives power loss, at one fsync per commit.
    case power

    var synchronousPragma: String {
        switch self {
        case .process: "NORMAL"
        case .power: "FULL"
        }
    }
}
