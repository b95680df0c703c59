import Gateway
import JSONDocument
import Testing
import Transparency

@Suite("Log leaf encoding")
struct LeafEncodingTests {
    @Test("the leaf joined from the signed payload is byte for byte the JCS of {jws, observation, x5t#S256}")
    func joinedLeafIsCanonical() throws {
        let observation = try JSONParser.parse(#"{"resourceType":"Observation","id":"a1","valueQuantity":{"value":36.60,"unit":"Cel"},"note":[{"text":"é \"quoted\" \u0001"}]}"#)
        let jws = "eyJhbGciOiJFUzI1NiJ9..c2ln"
        let thumbprint = "XN0F_IWfNikmqKPINoZ4tdraFOJGxVxD-66OiZ2eo4c"
        let expected = try JCS.canonicalize(["x5t#S256": .string(thumbprint), "observation": observation, "jws": .string(jws)])
        let joined = try LeafEncoding.leafData(canonicalObservation: JCS.canonicalize(observation), jws: jws, certificateThumbprint: thumbprint)
        #expect(joined == expected)
        #expect(try LeafEncoding.leafData(observation: observation, jws: jws, certificateThumbprint: thumbprint) == expected)
    }
}
