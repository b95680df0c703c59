import JSONDocument
import TransparencyLog

/// The bytes of one log leaf: the RFC 8785 canonical JSON of
/// `{"jws": <compact detached JWS>, "observation": <the Observation>, "x5t#S256": <thumbprint>}`.
///
/// Any JCS implementation recomputes it from a proof bundle; the leaf hash is then
/// SHA-256(0x00 ‖ leaf) as RFC 9162 prescribes. See docs/proof-bundle.md.
public enum LeafEncoding {
    public static func leafData(observation: JSONValue, jws: String, certificateThumbprint: String) throws(JCSError) -> [UInt8] {
        try leafData(canonicalObservation: JCS.canonicalize(observation), jws: jws, certificateThumbprint: certificateThumbprint)
    }

    /// The same bytes from the Observation's canonical form, which signing already computed:
    /// JCS orders the members "jws" < "observation" < "x5t#S256", so the canonical object is
    /// their canonical parts joined in that order.
    public static func leafData(canonicalObservation: [UInt8], jws: String, certificateThumbprint: String) throws(JCSError) -> [UInt8] {
        var out = Array(#"{"jws":"#.utf8)
        out += try JCS.canonicalize(.string(jws))
        out += Array(#","observation":"#.utf8)
        out += canonicalObservation
        out += Array(#","x5t#S256":"#.utf8)
        out += try JCS.canonicalize(.string(certificateThumbprint))
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func leafHash(observation: JSONValue, jws: String, certificateThumbprint: String) throws(JCSError) -> MerkleHash {
        RFC9162.leafHash(try leafData(observation: observation, jws: jws, certificateThumbprint: certificateThumbprint))
    }
}
