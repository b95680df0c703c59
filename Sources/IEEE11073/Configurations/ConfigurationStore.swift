import Synchronization

/// Where learned (extended) configurations live between associations, per agent System-Id.
///
/// The manager asks it during association, so a re-association with a known configuration is
/// accepted at once. The journal implements it durably; `InMemoryConfigurationStore` is for tests
/// and the offline decoder. Calls are synchronous: the manager state machine is deterministic and
/// never waits.
public protocol ConfigurationStore: Sendable {
    func configuration(systemId: SystemId, configId: UInt16) -> Configuration?
    func save(_ configuration: Configuration, systemId: SystemId)
}

public final class InMemoryConfigurationStore: ConfigurationStore {
    private struct Key: Hashable {
        let systemId: SystemId
        let configId: UInt16
    }

    private let entries = Mutex<[Key: Configuration]>([:])

    public init() {}

    public func configuration(systemId: SystemId, configId: UInt16) -> Configuration? {
        entries.withLock { $0[Key(systemId: systemId, configId: configId)] }
    }

    public func save(_ configuration: Configuration, systemId: SystemId) {
        entries.withLock { $0[Key(systemId: systemId, configId: configuration.id)] = configuration }
    }

    public var count: Int { entries.withLock { $0.count } }
}
