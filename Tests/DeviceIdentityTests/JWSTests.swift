import Crypto
import Foundation
import HexEncoding
import JSONDocument
import SigningKeys
import Testing
import WardgateTestSupport
import X509
@testable import DeviceIdentity

/// Independent verification: Python `cryptography` + `rfc8785` re-canonicalize the Observation
/// from its original (non-canonical) JSON text and verify ES256; exit codes say what failed.
let pythonVerifier = #"""
    import base64, hashlib, json, sys
    import rfc8785
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    def b64d(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    def b64e(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    observation_path, signed_payload_path, jws_path, cert_path = sys.argv[1:5]
    with open(observation_path, "rb") as f:
        observation = json.loads(f.read(), parse_int=float)
    payload = rfc8785.dumps(observation)
    with open(signed_payload_path, "rb") as f:
        if f.read() != payload:
            print("payload differs from rfc8785 canonical form"); sys.exit(2)
    with open(jws_path) as f:
        header_b64, detached, signature_b64 = f.read().strip().split(".")
    if detached != "":
        print("payload not detached"); sys.exit(5)
    header = json.loads(b64d(header_b64))
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    from cryptography.hazmat.primitives.serialization import Encoding
    if header.get("alg") != "ES256" or header.get("x5t#S256") != b64e(hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()):
        print("bad header", header); sys.exit(5)
    signature = b64d(signature_b64)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if len(signature) != 64 or s > N // 2:
        print("not low-S"); sys.exit(3)
    try:
        cert.public_key().verify(encode_dss_signature(r, s), (header_b64 + "." + b64e(payload)).encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        print("invalid signature"); sys.exit(4)
    print("OK")
    """#

struct SignedSample {
    var observation: JSONValue
    var payload: [UInt8]
    var jws: String
    var certificate: Certificate
}

/// Files for the external verifiers; returns the python and openssl results.
func verifyExternally(_ sample: SignedSample, in directory: TemporaryDirectory, tag: String = UUID().uuidString) throws -> (python: ProcessResult, openssl: ProcessResult) {
    let observation = try directory.write(sample.observation.serialized, to: "\(tag).observation.json")
    let payload = try directory.write(sample.payload, to: "\(tag).payload")
    let jws = try directory.write(sample.jws, to: "\(tag).jws")
    let certificate = try directory.write(CertificateCoding.pemString(sample.certificate), to: "\(tag).cert.pem")
    let script = try directory.write(pythonVerifier, to: "verify.py")
    let python = try ProcessRunner.runTool(["python3", script, observation, payload, jws, certificate])

    // openssl dgst over the JWS signing input with the DER form of the signature.
    let segments = sample.jws.split(separator: ".", omittingEmptySubsequences: false)
    let signingInput = try directory.write(String(segments[0]) + "." + Base64URL.encode(sample.payload), to: "\(tag).input")
    let der = ES256.derSignature(fromRaw: Base64URL.decode(String(segments[2])) ?? []) ?? []
    let signature = try directory.write(der, to: "\(tag).sig.der")
    let publicKey = directory.file("\(tag).pub.pem")
    let extracted = try ProcessRunner.runTool(["openssl", "x509", "-in", certificate, "-pubkey", "-noout", "-out", publicKey])
    #expect(extracted.status == 0, "\(extracted.output)")
    let openssl = try ProcessRunner.runTool(["openssl", "dgst", "-sha256", "-verify", publicKey, "-signature", signature, signingInput])
    return (python, openssl)
}

@Suite("JWS (ES256, detached)")
struct JWSTests {
    let fixture: WardFixture
    let signer: DeviceSigner

    init() throws {
        fixture = try WardFixture()
        try fixture.enroll("bed-12")
        signer = try fixture.registry().signingIdentity(for: "bed-12", at: Instants.enrolled).get()
    }

    func signed(_ observation: JSONValue = sampleObservation()) throws -> SignedSample {
        let (jws, payload) = try signer.sign(observation: observation)
        return SignedSample(observation: observation, payload: payload, jws: jws, certificate: signer.certificate)
    }

    @Test func compactDetachedFormAndHeader() throws {
        let sample = try signed()
        let segments = sample.jws.split(separator: ".", omittingEmptySubsequences: false)
        #expect(segments.count == 3 && segments[1].isEmpty)
        let header = try #require(Base64URL.decode(String(segments[0])))
        let thumbprint = Base64URL.encode(Array(SHA256.hash(data: CertificateCoding.derBytes(signer.certificate))))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"ES256","kid":"bed-12","x5t#S256":"\#(thumbprint)"}"#)
        #expect(Base64URL.decode(String(segments[2]))?.count == 64)
        #expect(!sample.jws.contains("="))
        #expect(sample.payload == (try JCS.canonicalize(sample.observation)))
    }

    @Test func everySignatureVerifiesWithPythonAndOpenSSL() throws {
        for value in ["72.0", "1e2", "0.1", "98.60000000000001", "-0", "333333333.33333329"] {
            let sample = try signed(sampleObservation(value: value))
            #expect(ES256.isLowS(Base64URL.decode(String(sample.jws.split(separator: ".", omittingEmptySubsequences: false)[2]))!))
            try JWSVerifier.verify(sample.jws, observation: sample.observation, certificate: sample.certificate)
            let (python, openssl) = try verifyExternally(sample, in: fixture.directory)
            #expect(python.status == 0 && python.stdout.contains("OK"), "python: \(python.output)")
            #expect(openssl.status == 0 && openssl.stdout.contains("Verified OK"), "openssl: \(openssl.output)")
        }
    }

    @Test func tamperedObservationIsRejected() throws {
        let sample = try signed()
        let tampered = sampleObservation(value: "73.0")
        #expect(throws: JWSVerificationError.invalidSignature) {
            try JWSVerifier.verify(sample.jws, observation: tampered, certificate: sample.certificate)
        }
        var forged = sample
        forged.observation = tampered
        let (python, openssl) = try verifyExternally(forged, in: fixture.directory)
        #expect(python.status == 2, "python accepted a tampered observation: \(python.output)")
        forged.payload = try JCS.canonicalize(tampered)
        let (python2, openssl2) = try verifyExternally(forged, in: fixture.directory)
        #expect(python2.status == 4, "\(python2.output)")
        #expect(openssl2.status != 0 && openssl.status == 0)
    }

    @Test func wrongKeyIsRejected() throws {
        let sample = try signed()
        try fixture.enroll("bed-13")
        let other = try fixture.keystore.certificate(kind: .device, id: "bed-13")
        // With the other certificate: its thumbprint is not the one in the header.
        #expect(throws: JWSVerificationError.self) { try JWSVerifier.verify(sample.jws, observation: sample.observation, certificate: other) }
        // With the other key directly: the signature itself fails.
        let otherKey = try #require(P256.Signing.PublicKey(other.publicKey))
        #expect(throws: JWSVerificationError.invalidSignature) {
            try JWSVerifier.verify(sample.jws, detachedPayload: sample.payload, publicKey: otherKey)
        }
        var swapped = sample
        swapped.certificate = other
        #expect(try verifyExternally(swapped, in: fixture.directory).python.status == 5)
    }

    @Test func highSSignatureIsRejected() throws {
        let sample = try signed()
        let segments = sample.jws.split(separator: ".", omittingEmptySubsequences: false)
        let raw = try #require(Base64URL.decode(String(segments[2])))
        let high = ES256.flippingS(raw)
        #expect(!ES256.isLowS(high) && ES256.isLowS(raw))
        // The high-S twin is a mathematically valid ECDSA signature (openssl accepts it) ...
        let highJWS = "\(segments[0])..\(Base64URL.encode(high))"
        var twin = sample
        twin.jws = highJWS
        let (python, openssl) = try verifyExternally(twin, in: fixture.directory)
        #expect(openssl.status == 0, "the twin should be valid ECDSA: \(openssl.output)")
        // ... but wardgate's verifier and the Python check refuse it.
        #expect(throws: JWSVerificationError.highS) { try JWSVerifier.verify(highJWS, observation: sample.observation, certificate: sample.certificate) }
        #expect(python.status == 3, "\(python.output)")
    }

    @Test func otherAlgorithmsAndCriticalHeadersAreRejected() throws {
        let sample = try signed()
        let signature = String(sample.jws.split(separator: ".", omittingEmptySubsequences: false)[2])
        func with(header: String) -> String { Base64URL.encode(Array(header.utf8)) + ".." + signature }
        let thumbprint = signer.certificateThumbprint
        #expect(throws: JWSVerificationError.unsupportedAlgorithm("none")) {
            try JWSVerifier.verify(with(header: #"{"alg":"none","kid":"bed-12","x5t#S256":"\#(thumbprint)"}"#), detachedPayload: sample.payload, certificate: sample.certificate)
        }
        #expect(throws: JWSVerificationError.unsupportedAlgorithm("ES384")) {
            try JWSVerifier.verify(with(header: #"{"alg":"ES384","kid":"bed-12","x5t#S256":"\#(thumbprint)"}"#), detachedPayload: sample.payload, certificate: sample.certificate)
        }
        #expect(throws: JWSVerificationError.unsupportedHeader("\"crit\" is not supported")) {
            try JWSVerifier.verify(with(header: #"{"alg":"ES256","crit":["exp"],"exp":1,"x5t#S256":"\#(thumbprint)"}"#), detachedPayload: sample.payload, certificate: sample.certificate)
        }
        #expect(throws: JWSVerificationError.self) {
            try JWSVerifier.verify(with(header: #"{"alg":"ES256","alg":"ES256"}"#), detachedPayload: sample.payload, certificate: sample.certificate)
        }
        // Same header semantics, different bytes: the signature covers the header bytes.
        #expect(throws: JWSVerificationError.invalidSignature) {
            try JWSVerifier.verify(with(header: #"{"kid":"bed-12","alg":"ES256","x5t#S256":"\#(thumbprint)"}"#), detachedPayload: sample.payload, certificate: sample.certificate)
        }
    }

    @Test func attachedPayloadIsRejected() throws {
        let sample = try signed()
        let segments = sample.jws.split(separator: ".", omittingEmptySubsequences: false)
        let attached = "\(segments[0]).\(Base64URL.encode(sample.payload)).\(segments[2])"
        #expect(throws: JWSVerificationError.payloadNotDetached) { try JWSVerifier.verify(attached, detachedPayload: sample.payload, certificate: sample.certificate) }
    }

    @Test func malformedInputNeverTraps() throws {
        let sample = try signed()
        let inputs = [
            "", ".", "..", "...", "a.b.c", "a..", "..b", "!!!..!!!", sample.jws + ".", sample.jws + "=", "=" + sample.jws,
            String(repeating: "A", count: 10_000), sample.jws.replacingOccurrences(of: "..", with: ".\u{0}."),
            Base64URL.encode(Array("[]".utf8)) + "..AA", Base64URL.encode(Array("{}".utf8)) + "..AA",
            Base64URL.encode(Array(#"{"alg":7}"#.utf8)) + "..AA", Base64URL.encode(Array("\u{FF}".utf8)) + "..AA",
        ]
        for input in inputs {
            #expect(throws: JWSVerificationError.self) { try JWSVerifier.verify(input, detachedPayload: sample.payload, certificate: sample.certificate) }
        }
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(sample.jws.utf8)
        for _ in 0..<2000 {
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            let original = bytes[position]
            bytes[position] = UInt8.random(in: 0x20...0x7E, using: &generator)
            let mutated = String(decoding: bytes, as: UTF8.self)
            if mutated != sample.jws {
                #expect((try? JWSVerifier.verify(mutated, detachedPayload: sample.payload, certificate: sample.certificate)) == nil)
            }
            bytes[position] = original
        }
        // Signature with r or s out of range.
        let header = String(sample.jws.split(separator: ".", omittingEmptySubsequences: false)[0])
        let zero = header + ".." + Base64URL.encode([UInt8](repeating: 0, count: 64))
        let maxed = header + ".." + Base64URL.encode([UInt8](repeating: 0xFF, count: 64))
        #expect(throws: JWSVerificationError.invalidSignature) { try JWSVerifier.verify(zero, detachedPayload: sample.payload, certificate: sample.certificate) }
        #expect(throws: JWSVerificationError.invalidSignature) { try JWSVerifier.verify(maxed, detachedPayload: sample.payload, certificate: sample.certificate) }
    }

    @Test func base64URLRoundTripsAndIsStrict() {
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.encode(Array("f".utf8)) == "Zg")
        #expect(Base64URL.decode("Zh") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("Zg==") == nil)
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
    }
}
