import DeviceIdentity
import JSONDocument
import TransparencyLog

/// The bytes of one log leaf: the RFC 8785 canonical JSON of
/// `{"jws": <compact detached JWS>, "observation": <the Observation>, "x5t#S256": <thumbprint>}`.
///
/// Any JCS implementation recomputes it from a proof bundle; the leaf hash is then
/// SHA-256(0x00 ‖ leaf) as RFC 9162 prescribes. See docs/proof-bundle.md.
public enum LeafEncoding {
    public static func leafData(observation: JSONValue, jws: String, certificateThumbprint: String) throws(JCSError) -> [UInt8] {
        try JCS.canonicalize([
            "jws": .string(jws),
            "observation": observation,
            "x5t#S256": .string(certificateThumbprint),
        ])
    }

    public static func leafHash(observation: JSONValue, jws: String, certificateThumbprint: String) throws(JCSError) -> MerkleHash {
        RFC9162.leafHash(try leafData(observation: observation, jws: jws, certificateThumbprint: certificateThumbprint))
    }
}
