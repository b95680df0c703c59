import Crypto

/// Carries a P-256 private key across concurrency domains.
///
/// `@unchecked` because swift-crypto 3.x does not declare `P256.Signing.PrivateKey` Sendable on
/// Linux. It is safe here: the key is immutable after creation (a `let` holding BoringSSL's
/// EC_KEY), and BoringSSL's ECDSA signing only reads the key (`ECDSA_do_sign` takes a const
/// EC_KEY), so concurrent signing with one key is allowed.
public struct SendableSigningKey: @unchecked Sendable {
    public let key: P256.Signing.PrivateKey

    public init(key: P256.Signing.PrivateKey) { self.key = key }
}
