import Foundation
import JSONDocument
import Testing
@testable import DeviceIdentity

@Suite("FHIR Provenance")
struct ProvenanceTests {
    @Test func provenanceCarriesTheJWSAsBase64() async throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let signer = try fixture.registry().signingIdentity(for: "bed-12", at: Instants.enrolled).get()
        let observation = sampleObservation()
        let (jws, _) = try signer.sign(observation: observation)
        let signedAt = Instants.days(0.5, after: Instants.enrolled)
        let provenance = ProvenanceBuilder.provenance(observationID: "obs-1", signer: .device("bed-12"), jws: jws, signedAt: signedAt, provenanceID: "prov-1")

        #expect(provenance["resourceType"] == "Provenance")
        #expect(provenance["id"] == "prov-1")
        #expect(provenance["target"]?.arrayValue?.first?["reference"] == "Observation/obs-1")
        #expect(provenance["recorded"] == "2021-03-01T12:00:00.000Z")
        let agent = try #require(provenance["agent"]?.arrayValue?.first)
        #expect(agent["type"]?["coding"]?.arrayValue?.first?["code"] == "author")
        #expect(agent["type"]?["coding"]?.arrayValue?.first?["system"] == "http://terminology.hl7.org/CodeSystem/provenance-participant-type")
        #expect(agent["who"]?["identifier"]?["value"] == "urn:wardgate:device:bed-12")
        let signature = try #require(provenance["signature"]?.arrayValue?.first)
        #expect(signature["type"]?.arrayValue?.first?["code"] == "1.2.840.10065.1.12.1.5")
        #expect(signature["type"]?.arrayValue?.first?["system"] == "urn:iso-astm:E1762-95:2013")
        #expect(signature["sigFormat"] == "application/jose")
        #expect(signature["when"] == "2021-03-01T12:00:00.000Z")
        #expect(signature["who"] == agent["who"])
        let data = try #require(signature["data"]?.stringValue)
        #expect(Data(base64Encoded: data).map { String(decoding: $0, as: UTF8.self) } == jws)
        // Standard base64 (FHIR base64Binary), not base64url.
        #expect(data == Data(jws.utf8).base64EncodedString())

        // Round trip for `wardgate verify`: fields out, then verify offline.
        let fields = try #require(ProvenanceBuilder.signatureFields(of: provenance))
        #expect(fields.jws == jws && fields.signedAt == signedAt && fields.signer == .device("bed-12") && fields.targetReference == "Observation/obs-1")
        let verified = await (try SignatureVerifier(keystore: fixture.keystore)).verify(jws: fields.jws, observation: observation, signedAt: fields.signedAt)
        #expect((try? verified.get())?.name == .device("bed-12"))
        let tampered = await (try SignatureVerifier(keystore: fixture.keystore)).verify(jws: fields.jws, observation: sampleObservation(value: "80"), signedAt: fields.signedAt)
        #expect(throws: SignatureVerifier.Failure.signature(.invalidSignature)) { try tampered.get() }
    }

    @Test(arguments: [(0.0, "1970-01-01T00:00:00.000Z"), (1_614_556_800.123, "2021-03-01T00:00:00.123Z"), (4_102_444_800.5, "2100-01-01T00:00:00.500Z"), (-0.5, "1969-12-31T23:59:59.500Z")])
    func instants(seconds: Double, expected: String) {
        #expect(FHIRInstant.format(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
