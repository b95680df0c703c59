import Crypto
import Foundation
import HexEncoding
import JSONDocument
import SigningKeys
import Testing
import X509
@testable import DeviceIdentity

/// The signing time inside the protected header (`iat`), the raw signature over a prepared
/// header, the compact JWS rebuilt from the two, and the one policy both sides judge a
/// certificate by at that time.
@Suite("Signing time (JWS iat) and the signing-time policy")
struct SigningTimeTests {
    let fixture: WardFixture
    let signer: DeviceSigner

    init() throws {
        fixture = try WardFixture()
        try fixture.enroll("bed-12")
        signer = try fixture.registry().signingIdentity(for: "bed-12", at: Instants.enrolled).get()
    }

    @Test("the header carries iat in JCS order, and the JWS verifies with JWSVerifier, Python and openssl")
    func headerWithSigningTime() throws {
        let observation = sampleObservation()
        let payload = try JCS.canonicalize(observation)
        let signedAt = SigningTimePolicy.standard.signingTime(at: Instants.days(3.7, after: Instants.enrolled))
        let jws = try signer.sign(payload, signedAt: signedAt)
        let segments = jws.split(separator: ".", omittingEmptySubsequences: false)
        let header = try #require(Base64URL.decode(String(segments[0])))
        #expect(String(decoding: header, as: UTF8.self)
            == #"{"alg":"ES256","iat":\#(signedAt),"kid":"bed-12","x5t#S256":"\#(signer.certificateThumbprint)"}"#)
        #expect(signedAt == 1_614_556_800 + 319_680, "3.7 days after enrollment, whole seconds rounded down")
        let verified = try JWSVerifier.verify(jws, detachedPayload: payload, certificate: signer.certificate)
        #expect(verified.signedAt == signedAt)
        let (python, openssl) = try verifyExternally(
            SignedSample(observation: observation, payload: payload, jws: jws, certificate: signer.certificate), in: fixture.directory)
        #expect(python.status == 0 && python.stdout.contains("OK"), "python: \(python.output)")
        #expect(openssl.status == 0 && openssl.stdout.contains("Verified OK"), "openssl: \(openssl.output)")
    }

    @Test("a stored raw signature and header segment rebuild the compact JWS byte for byte")
    func rebuiltExactly() throws {
        let payload = try JCS.canonicalize(sampleObservation(value: "98.6"))
        for signedAt: Int64 in [0, 1_614_556_800, 4_102_444_799, JWSHeader.maximumSignedAt] {
            let header = signer.protectedHeader(signedAt: signedAt)
            let raw = try signer.signature(over: payload, header: header)
            #expect(raw.count == 64 && ES256.isLowS(raw))
            let compact = CompactJWS.detached(header: header.encoded, signature: raw)
            try JWSVerifier.verify(compact, detachedPayload: payload, certificate: signer.certificate)
            let (splitHeader, splitSignature) = try CompactJWS.split(compact)
            #expect(splitHeader == header && splitSignature == raw)
            #expect(CompactJWS.detached(header: splitHeader.encoded, signature: splitSignature) == compact)
        }
    }

    @Test("a signature in parts: the header template around iat writes the JCS tree's bytes, and the parts are the JWS")
    func detachedParts() throws {
        let payload = try JCS.canonicalize(sampleObservation(value: "98.6"))
        for signedAt: Int64 in [0, 7, 1_614_556_800, JWSHeader.maximumSignedAt, -1, JWSHeader.maximumSignedAt + 1] {
            let tree = JWSHeader(keyID: "bed-12", certificateThumbprint: signer.certificateThumbprint, signedAt: signedAt).encodedJSON
            let signed = try signer.signDetached(payload, signedAt: signedAt)
            #expect(signed.headerPrefix + (signed.iat.map { Array(String($0).utf8) } ?? []) + signed.headerSuffix == tree, "\(signedAt)")
            // Outside the plain range the whole header is the prefix (the journal keeps it whole).
            #expect(signed.iat == (JWSHeaderTemplate.writesPlainly(signedAt) ? signedAt : nil))
            #expect(signed.encodedHeader == Array(Base64URL.encode(tree).utf8))
            #expect(signed.signature.count == 64 && ES256.isLowS(signed.signature))
            #expect(signer.protectedHeader(signedAt: signedAt).encoded == signed.encodedHeader)
            if JWSHeaderTemplate.writesPlainly(signedAt) {
                #expect(try JWSVerifier.verify(signed.compact, detachedPayload: payload, certificate: signer.certificate).signedAt == signedAt)
            }
        }
    }

    @Test("iat that is not a whole number of seconds is refused", arguments: [
        #""iat":"1614556800""#, #""iat":-1"#, #""iat":1.5"#, #""iat":1e9"#, #""iat":9007199254740992"#, #""iat":null"#, #""iat":true"#,
    ])
    func malformedSigningTime(member: String) throws {
        let payload = try JCS.canonicalize(sampleObservation())
        let header = #"{"alg":"ES256",\#(member),"kid":"bed-12","x5t#S256":"\#(signer.certificateThumbprint)"}"#
        let encoded = Array(Base64URL.encode(Array(header.utf8)).utf8)
        let raw = try signer.signature(over: payload, header: ProtectedHeader(encoded: encoded, signedAt: nil))
        #expect(throws: JWSVerificationError.malformed(#""iat" is not a whole number of seconds since the epoch"#)) {
            try JWSVerifier.verify(CompactJWS.detached(header: encoded, signature: raw), detachedPayload: payload, certificate: signer.certificate)
        }
    }

    @Test("signatures without iat (made before it existed) still verify, with no signing time")
    func legacyHeader() throws {
        let payload = try JCS.canonicalize(sampleObservation())
        let verified = try JWSVerifier.verify(try signer.sign(payload), detachedPayload: payload, certificate: signer.certificate)
        #expect(verified.signedAt == nil)
    }

    @Test("the policy: validity bounds inclusive, revocation at or before T or for key compromise, anchor not before T")
    func policy() throws {
        let policy = SigningTimePolicy.standard
        let certificate = signer.certificate
        #expect(policy.isValid(certificate, at: certificate.notValidBefore))
        #expect(policy.isValid(certificate, at: certificate.notValidAfter))
        #expect(!policy.isValid(certificate, at: certificate.notValidBefore.addingTimeInterval(-1)))
        #expect(!policy.isValid(certificate, at: certificate.notValidAfter.addingTimeInterval(1)))
        let t = Instants.days(10, after: Instants.enrolled)
        let entry = { (date: Date, reason: RevocationReason?) in
            CertificateRevocationList.RevokedCertificate(serial: certificate.serialNumber.bytes.map { $0 }, revocationDate: date, reason: reason, reasonCode: nil)
        }
        #expect(policy.countsAsRevoked(entry(t, .superseded), at: t))
        #expect(!policy.countsAsRevoked(entry(t.addingTimeInterval(1), .superseded), at: t))
        #expect(policy.countsAsRevoked(entry(t.addingTimeInterval(86_400), .keyCompromise), at: t))
        #expect(policy.isConsistent(signingTime: t, anchoredAt: t))
        #expect(!policy.isConsistent(signingTime: t.addingTimeInterval(1), anchoredAt: t))
        #expect(policy.signingTime(at: Date(timeIntervalSince1970: 1_614_556_800.999)) == 1_614_556_800)
        #expect(policy.date(ofSigningTime: 1_614_556_800) == Date(timeIntervalSince1970: 1_614_556_800))
    }
}
