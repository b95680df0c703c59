import DeviceIdentity
import Journal
import MQTTIngest
import StrictYAML

public enum GatewayError: Error, Sendable, CustomStringConvertible {
    case invalidFiles(YAMLIssues)
    case journal(JournalError)
    case mqtt(MQTTError)
    case identity(IdentityError)
    case log(String)
    case ledger(String)
    /// The journal's log, its outbox and the ledger disagree about what was anchored.
    case anchoring(String)

    public var description: String {
        switch self {
        case .invalidFiles(let issues): issues.description
        case .journal(let error): error.description
        case .mqtt(let error): error.description
        case .identity(let error): "identity: \(error)"
        case .log(let reason): "Merkle log: \(reason)"
        case .ledger(let reason): "ledger: \(reason)"
        case .anchoring(let reason): "refusing to run: \(reason)"
        }
    }
}
