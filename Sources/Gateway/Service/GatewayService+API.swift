import DeviceIdentity
import Evidence
import JSONDocument
import Journal
import StaffAPI

extension GatewayService {
    /// What the API serves from the gateway beyond the journal:
    /// - after each signed Observation of a search page, its Provenance (the device's JWS),
    ///   exactly as `wardgate export` writes it;
    /// - `/v1/observations/{id}/proof`: the proof bundle (`ProofBundle`, docs/proof-bundle.md)
    ///   against the latest signed checkpoint;
    /// - `/v1/checkpoints/latest`: the latest signed checkpoint note.
    static func apiHooks(gateway: Gateway) -> StaffAPIHooks {
        let identity = gateway.config.identity
        return StaffAPIHooks(
            fullUrl: { ObservationExport.fullUrl($0) },
            includes: { observations in
                observations.compactMap { (observation: StoredObservation) -> JSONValue? in
                    guard let provenance = ObservationExport.provenance(for: observation) else { return nil }
                    return ["fullUrl": .string(ObservationExport.fullUrl(observation.id, provenance: true)), "resource": provenance]
                }
            },
            proof: { id in
                guard let identity else { return .notFound("this gateway has no identity section: it signs and logs nothing") }
                let keystore = Keystore(directory: identity.keystore)
                do throws(ProofBundle.BuildError) {
                    return .bundle(try ProofBundle.build(.observation(id), journal: gateway.journal, keystore: keystore))
                } catch {
                    switch error {
                    case .notFound, .notLogged: return .notFound(error.description)
                    case .notYetCheckpointed: return .notYet(error.description)
                    case .missingCertificate, .failed: return .failed(error.description)
                    }
                }
            },
            latestCheckpoint: { try gateway.log.latestCheckpointNote() })
    }
}
