import IEEE11073
import Journal
import Logging

/// Extended 11073 configurations, kept in the journal per (system id, config id), so a device
/// that re-associates with a configuration it taught us earlier is accepted at once.
public struct JournalConfigurationStore: ConfigurationStore {
    let journal: Journal
    let logger: Logger

    public init(journal: Journal, logger: Logger) {
        self.journal = journal
        self.logger = logger
    }

    public func configuration(systemId: SystemId, configId: UInt16) -> Configuration? {
        do {
            guard let bytes = try journal.deviceConfiguration(systemId: systemId.hex, configId: Int(configId)) else { return nil }
            return try Configuration(encoded: bytes)
        } catch {
            logger.error("stored 11073 configuration unusable; the device will be asked for it again",
                         metadata: ["device": "\(systemId)", "configId": "\(configId)", "reason": "\(error)"])
            return nil
        }
    }

    public func save(_ configuration: Configuration, systemId: SystemId) {
        do {
            try journal.saveDeviceConfiguration(systemId: systemId.hex, configId: Int(configuration.id), encoded: try configuration.encoded())
        } catch {
            logger.error("cannot persist a learned 11073 configuration; it stays valid for this session only",
                         metadata: ["device": "\(systemId)", "reason": "\(error)"])
        }
    }
}
