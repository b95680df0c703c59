import FabricLedger
import Foundation
import StrictYAML

extension GatewayConfig {
    /// `ledger:`: where batches are anchored. Defaults to the embedded ledger in the state directory.
    public struct LedgerSettings: Sendable, Hashable {
        public enum Kind: String, Sendable, CaseIterable {
            /// A signed, hash-chained block file on this gateway (docs/ledger.md).
            case embedded
            /// A Hyperledger Fabric channel, through a peer's Gateway service (docs/ledger-fabric.md).
            case fabric
        }

        public var kind: Kind
        /// The embedded ledger's SQLite file.
        public var path: String
        /// Its signing key; nil means `ledger.key` beside `path`, generated on first start.
        public var key: String?
        /// `ledger.fabric`: set exactly when `kind` is `.fabric`.
        public var fabric: FabricSettings?
        public var retryInitial: Duration
        public var retryMaximum: Duration
        public var healthProbe: Duration

        public init(kind: Kind = .embedded, path: String, key: String? = nil, fabric: FabricSettings? = nil, retryInitial: Duration = .milliseconds(250),
                    retryMaximum: Duration = .seconds(30), healthProbe: Duration = .seconds(1)) {
            self.kind = kind
            self.path = path
            self.key = key
            self.fabric = fabric
            self.retryInitial = retryInitial
            self.retryMaximum = retryMaximum
            self.healthProbe = healthProbe
        }
    }
}

extension ConfigSections {
    func ledger(_ root: YAMLObject, into ledger: inout GatewayConfig.LedgerSettings) {
        guard let section = root.optionalObject("ledger") else { return }
        let kinds = GatewayConfig.LedgerSettings.Kind.allCases.map(\.rawValue)
        let kindGiven = section.has("kind")
        let kind = section.optionalChoice("kind", kinds).flatMap(GatewayConfig.LedgerSettings.Kind.init(rawValue:))
        ledger.kind = kind ?? ledger.kind
        switch kindGiven && kind == nil ? nil : ledger.kind {
        case .embedded:
            ledger.path = section.optionalString("path").map(resolve) ?? ledger.path
            ledger.key = section.optionalString("key").map(resolve)
            if section.has("fabric") { reader.report(section.fieldPath("fabric"), "is only read with kind: fabric (this ledger is embedded)") }
        case .fabric:
            for field in ["path", "key"] where section.has(field) {
                reader.report(section.fieldPath(field), "belongs to the embedded ledger; the Fabric identity is ledger.fabric.certificate and ledger.fabric.key")
            }
            if let fabric = section.optionalObject("fabric") {
                ledger.fabric = self.fabric(fabric)
            } else {
                reader.report(section.fieldPath("fabric"), "is required with kind: fabric (endpoint, mspId, certificate, key, channel)")
            }
        case nil:
            // The kind is already reported; its settings are not judged against a guess.
            for field in ["path", "key", "fabric"] { _ = section.has(field) }
        }
        if let retry = section.optionalObject("retry") {
            ledger.retryInitial = retry.optionalDuration("initial") ?? ledger.retryInitial
            ledger.retryMaximum = retry.optionalDuration("maximum") ?? ledger.retryMaximum
            if ledger.retryMaximum < ledger.retryInitial { reader.report(retry.fieldPath("maximum"), "must not be below initial") }
            retry.finish()
        }
        ledger.healthProbe = section.optionalDuration("healthProbe") ?? ledger.healthProbe
        section.finish()
    }

    /// `ledger.fabric`: the peer, the gateway's Fabric identity, the channel and chaincode, TLS.
    ///
    /// ```yaml
    /// fabric:
    ///   endpoint: peer0.hospital.example:7051
    ///   mspId: WardOrgMSP
    ///   certificate: ./fabric/client.pem        # the gateway's Fabric identity (a PEM file, or PEM text)
    ///   key: ./fabric/client.key                # its P-256 key (mode 0600)
    ///   channel: wards
    ///   chaincode: wardgate-anchor
    ///   tls: {caFile: ./fabric/tls-ca.pem, certFile: ./fabric/tls-client.pem, keyFile: ./fabric/tls-client.key}
    ///   endorsingOrganizations: [WardOrgMSP, RegulatorMSP]   # optional; default: the channel's policy
    ///   timeouts: {call: 30s, commitStatusCall: 10s, commit: 2m}
    /// ```
    func fabric(_ section: YAMLObject) -> FabricSettings? {
        defer { section.finish() }
        let endpoint = section.string("endpoint")
        if let endpoint, let problem = FabricSettings.endpointProblem(endpoint) { reader.report(section.fieldPath("endpoint"), problem) }
        let mspID = section.string("mspId")
        if let mspID, mspID.isEmpty || mspID.contains(where: \.isWhitespace) {
            reader.report(section.fieldPath("mspId"), "must be the MSP id of the gateway's organization, e.g. WardOrgMSP, without spaces")
        }
        let certificate = credential(section, "certificate")
        let key = credential(section, "key")
        let channel = section.string("channel")
        if let channel, let problem = FabricSettings.channelNameProblem(channel) { reader.report(section.fieldPath("channel"), problem) }
        let chaincode = section.optionalString("chaincode") ?? "wardgate-anchor"
        if let problem = FabricSettings.chaincodeNameProblem(chaincode) { reader.report(section.fieldPath("chaincode"), problem) }
        let tls = section.optionalObject("tls").flatMap(fabricTLS)
        var organizations: [String] = []
        for (path, node) in section.optionalList("endorsingOrganizations") ?? [] {
            if case .scalar(let scalar) = node, !scalar.string.isEmpty { organizations.append(scalar.string) } else { reader.report(path, "expected an MSP id") }
        }
        var timeouts = FabricSettings.Timeouts()
        if let object = section.optionalObject("timeouts") {
            for (field, keyPath) in [("call", \FabricSettings.Timeouts.call), ("commitStatusCall", \.commitStatusCall), ("commit", \.commit)] {
                guard let value = object.optionalDuration(field) else { continue }
                if value > .zero { timeouts[keyPath: keyPath] = value } else { reader.report(object.fieldPath(field), "must be longer than 0 s") }
            }
            object.finish()
        }
        guard let endpoint, let mspID, let certificate, let key, let channel else { return nil }
        return FabricSettings(endpoint: endpoint, mspID: mspID, certificatePath: certificate, keyPath: key, channel: channel, chaincode: chaincode,
                              tls: tls, endorsingOrganizations: organizations, timeouts: timeouts)
    }

    /// A PEM file (resolved, checked to exist) or PEM text given inline.
    private func credential(_ section: YAMLObject, _ field: String) -> String? {
        guard let value = section.string(field) else { return nil }
        if FabricSettings.isInlinePEM(value) { return value }
        let path = resolve(value)
        requireFile(path, section, field)
        return path
    }

    private func fabricTLS(_ tls: YAMLObject) -> FabricSettings.TLS? {
        defer { tls.finish() }
        let ca = tls.optionalString("caFile").map(resolve)
        let cert = tls.optionalString("certFile").map(resolve)
        let key = tls.optionalString("keyFile").map(resolve)
        if (cert == nil) != (key == nil) { reader.report(tls.path, "certFile and keyFile go together (mutual TLS)") }
        for (field, path) in [("caFile", ca), ("certFile", cert), ("keyFile", key)] { requireFile(path, tls, field) }
        return FabricSettings.TLS(caFile: ca, certFile: cert, keyFile: key)
    }
}
