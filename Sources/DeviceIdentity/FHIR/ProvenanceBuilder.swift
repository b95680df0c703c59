import Foundation
import JSONDocument

/// Builds the FHIR R4 Provenance that carries a device's signature over an Observation.
///
/// ```json
/// {"resourceType":"Provenance",
///  "target":[{"reference":"Observation/<id>"}],
///  "recorded":"<instant>",
///  "agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/provenance-participant-type","code":"author","display":"Author"}]},
///            "who":{"type":"Device","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:wardgate:device:<id>"}}}],
///  "signature":[{"type":[{"system":"urn:iso-astm:E1762-95:2013","code":"1.2.840.10065.1.12.1.5","display":"Verification Signature"}],
///                "when":"<instant>","who":{...same as agent.who...},
///                "sigFormat":"application/jose","data":"<base64 of the compact JWS text>"}]}
/// ```
public enum ProvenanceBuilder {
    public static let participantTypeSystem = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
    public static let signatureTypeSystem = "urn:iso-astm:E1762-95:2013"
    public static let identifierSystem = "urn:ietf:rfc:3986"
    public static let sigFormat = "application/jose"

    /// ASTM E1762 signature type.
    public struct SignatureType: Sendable, Hashable {
        public var code: String
        public var display: String

        public init(code: String, display: String) {
            self.code = code
            self.display = display
        }

        public static let verification = SignatureType(code: "1.2.840.10065.1.12.1.5", display: "Verification Signature")
        public static let source = SignatureType(code: "1.2.840.10065.1.12.1.8", display: "Source Signature")
    }

    /// - Parameters:
    ///   - observationID: the Observation's logical id (target becomes `Observation/<id>`).
    ///   - signer: who signed (device or gateway).
    ///   - jws: the compact detached JWS from `DeviceSigner.sign`.
    ///   - signedAt: when the JWS was made (`signature.when`).
    ///   - recorded: when the Provenance was recorded; defaults to `signedAt`.
    ///   - provenanceID: optional logical id of the Provenance itself.
    public static func provenance(
        observationID: String,
        signer: IdentityName,
        jws: String,
        signedAt: Date,
        recorded: Date? = nil,
        provenanceID: String? = nil,
        signatureType: SignatureType = .verification
    ) -> JSONValue {
        let who: JSONValue = [
            "type": "Device",  // both devices and the gateway are FHIR Devices
            "identifier": ["system": .string(identifierSystem), "value": .string(signer.kind.urnPrefix + signer.id)],
        ]
        return .object([
            "resourceType": "Provenance",
            "id": provenanceID.map(JSONValue.string),
            "target": [["reference": .string("Observation/\(observationID)")]],
            "recorded": .string(FHIRInstant.format(recorded ?? signedAt)),
            "agent": [
                [
                    "type": [
                        "coding": [["system": .string(participantTypeSystem), "code": "author", "display": "Author"]]
                    ],
                    "who": who,
                ]
            ],
            "signature": [
                [
                    "type": [["system": .string(signatureTypeSystem), "code": .string(signatureType.code), "display": .string(signatureType.display)]],
                    "when": .string(FHIRInstant.format(signedAt)),
                    "who": who,
                    "sigFormat": .string(sigFormat),
                    "data": .string(Data(jws.utf8).base64EncodedString()),
                ]
            ],
        ])
    }

    /// What a verifier needs back out of a Provenance built here.
    public struct SignatureFields: Sendable, Hashable {
        public var jws: String
        public var signedAt: Date
        public var targetReference: String?
        public var signer: IdentityName?
    }

    /// Reads the first JOSE signature of a Provenance; nil if it has none or it is malformed.
    public static func signatureFields(of provenance: JSONValue) -> SignatureFields? {
        guard provenance["resourceType"]?.stringValue == "Provenance",
            let signature = provenance["signature"]?.arrayValue?.first(where: { $0["sigFormat"]?.stringValue == sigFormat }),
            let data = signature["data"]?.stringValue, let decoded = Data(base64Encoded: data),
            let jws = String(data: decoded, encoding: .utf8),
            let when = signature["when"]?.stringValue, let signedAt = FHIRInstant.parse(when)
        else { return nil }
        let signer = signature["who"]?["identifier"]?["value"]?.stringValue.flatMap { IdentityName(urn: $0) }
        return SignatureFields(
            jws: jws,
            signedAt: signedAt,
            targetReference: provenance["target"]?.arrayValue?.first?["reference"]?.stringValue,
            signer: signer
        )
    }
}

/// FHIR `instant`: UTC with millisecond precision, e.g. `2025-03-01T08:15:30.250Z`.
public enum FHIRInstant {
    public static func format(_ date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = milliseconds / 1000
        var fraction = milliseconds % 1000
        if fraction < 0 {
            fraction += 1000
            seconds -= 1
        }
        let c = ASN1Time.civil(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(fraction, 3))Z"
    }

    /// Parses an instant with or without fractional seconds, `Z` or a numeric offset.
    public static func parse(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}
