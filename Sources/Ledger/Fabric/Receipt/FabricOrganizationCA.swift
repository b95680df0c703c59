import X509

/// One endorsing organization's certificate authorities, as its Fabric MSP holds them: root CAs
/// (`cacerts`) and intermediate CAs (`intermediatecerts`). `wardgate verify --fabric-ca` reads
/// one PEM bundle per organization: a self-signed certificate is a root, any other an
/// intermediate. An endorsement's identity carries only its leaf certificate (Fabric's
/// `SerializedIdentity`), so the intermediates must come from here.
public struct FabricOrganizationCA: Sendable {
    public let roots: [Certificate]
    public let intermediates: [Certificate]
    /// Where it came from, for messages (the file, or the first root's subject).
    public let name: String

    public init(certificates: [Certificate], name: String? = nil) throws(FabricProtocolError) {
        roots = certificates.filter { $0.subject == $0.issuer }
        intermediates = certificates.filter { $0.subject != $0.issuer }
        guard let first = roots.first else {
            throw FabricProtocolError("\(name ?? "the organization's CA certificates") hold no root CA (a self-signed certificate); an MSP needs at least one")
        }
        self.name = name ?? "\(first.subject)"
    }

    /// Fabric's rule (msp/mspimplvalidate.go): an identity must be issued by a leaf of the
    /// organization's CA tree, never by a CA that issued one of its intermediates. The problem, or nil.
    func issuerProblem(of certificate: Certificate) -> String? {
        guard intermediates.contains(where: { $0.issuer == certificate.issuer }) else { return nil }
        return "it is issued by \(certificate.issuer), which issued an intermediate CA of \(name): an MSP takes identities only from the leaves of its CA tree"
    }
}
