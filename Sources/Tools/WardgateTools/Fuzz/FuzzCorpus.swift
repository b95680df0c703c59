import Foundation
import IEEE11073
import Simulation

/// Builds fuzz seeds from valid APDUs: the shipped test vectors plus what the simulated agents send.
public enum FuzzCorpus {
    /// For each APDU, picks the configuration under which an operating session accepts it cleanly
    /// (standard configurations and any configuration the corpus itself reports).
    public static func seeds(named apdus: [(name: String, bytes: [UInt8])]) -> [APDUFuzzer.Seed] {
        var candidates = StandardConfigurations.supportedIds.compactMap { StandardConfigurations.configuration(id: $0) }
        for (_, bytes) in apdus {
            if case .prst(let data)? = try? APDU.decode(bytes),
               case .roivConfirmedEventReport(let argument) = data.message,
               case .configReport(let report) = argument.info,
               let learned = try? Configuration(report: report) {
                candidates.append(learned)
            }
        }
        guard let fallback = candidates.first else { return [] }
        let settings = ManagerSettings(managerSystemId: SystemId(1), offsetRule: .utc)
        return apdus.map { name, bytes in
            let best = candidates.first { configuration in
                var session = ManagerSession.preset(operatingWith: configuration, systemId: SystemId(2), settings: settings)
                let result = session.receive(bytes, now: .zero)
                return !result.isRejected && result.deadLetters.isEmpty && !result.readings.isEmpty
            }
            return APDUFuzzer.Seed(name: name, bytes: bytes, configuration: best ?? fallback)
        }
    }

    /// APDUs a simulated agent of every specialization sends in a full dialogue.
    public static func simulatedAgentAPDUs() -> [(name: String, bytes: [UInt8])] {
        var result: [(String, [UInt8])] = []
        for specialization in AgentSpecialization.allCases {
            guard var agent = try? SimulatedAgent(specialization: specialization, systemId: SystemId(0x0A0B_0C0D_0E0F_1011), seed: 7),
                  let aarq = try? agent.associationRequest(now: .zero) else { continue }
            result.append(("agent-\(specialization.rawValue)-aarq", aarq))
            var operating = agent
            let unknown = try? APDU.aare(AssociationResponse(result: .acceptedUnknownConfig, selectedDataProtocol: .none)).encode()
            if let unknown, let config = agent.receive(unknown, now: .zero).outgoing.first {
                result.append(("agent-\(specialization.rawValue)-config", config))
            }
            let accepted = try? APDU.aare(AssociationResponse(result: .accepted, selectedDataProtocol: .none)).encode()
            guard let accepted else { continue }
            _ = operating.receive(accepted, now: .zero)
            if let measurement = try? operating.measurement(wallClock: Date(timeIntervalSince1970: 1_700_000_000), now: .zero) {
                result.append(("agent-\(specialization.rawValue)-scan", measurement.apdu))
            }
            if let release = try? operating.releaseRequest(now: .zero) { result.append(("agent-rlrq", release)) }
        }
        return result
    }
}
