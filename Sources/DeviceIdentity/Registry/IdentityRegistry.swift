import Foundation
import SigningKeys
import Synchronization
import X509

/// Answers the pipeline's question "may I sign for device X now, and with what?".
///
/// Loads the keystore (keys, certificates), the trust anchor and the CRL once, caches parsed keys
/// in `DeviceSigner`s, and notices changes:
/// - a device enrolled after start is found on its first lookup (one `stat` of its cert file);
/// - `reloadIfChanged()` stats the files behind the cache and reloads when any changed
///   (rotation, revocation, a chmod); `signingIdentity` calls it at most every
///   `autoRefreshInterval`;
/// - `reload()` (SIGHUP) re-reads everything.
/// A reload that fails (e.g. a CRL not signed by the CA) throws and leaves the previous state in
/// place. All state sits behind one `Mutex`; signing itself happens outside it.
public final class IdentityRegistry: Sendable {
    public struct ReloadSummary: Sendable {
        public var identities: [IdentityName]
        /// Identities present on disk that cannot sign (whatever the time), with the reason.
        public var failures: [IdentityFailure]
        public var crlNumber: Int?
    }

    private struct Snapshot: Sendable {
        var policy: SigningPolicy
        var anchorFile: FileFingerprint?
        var crlFile: FileFingerprint?
        var identities: [IdentityName: LoadedIdentity]
        /// Directory fingerprints: an added or removed identity changes its parent's mtime.
        var folders: [String: FileFingerprint?]
    }

    private struct State: Sendable {
        var snapshot: Snapshot
        var certificatesByThumbprint: [String: Certificate] = [:]
        var lastChangeCheck: ContinuousClock.Instant
        var lastRefreshError: IdentityError?
    }

    public let keystore: Keystore
    private let anchorPath: String
    private let crlPath: String
    private let crlRequired: Bool
    private let autoRefreshInterval: Duration?
    private let state: Mutex<State>

    /// - Parameters:
    ///   - keystore: the keystore directory (see `Keystore`).
    ///   - caCertificatePath: trust anchor; defaults to `<keystore>/ca.pem`.
    ///   - crlPath: CRL to honour; defaults to `<keystore>/crl.pem`, which may be absent. An
    ///     explicitly given CRL must exist.
    ///   - autoRefreshInterval: how often `signingIdentity` checks file fingerprints; nil never.
    public init(
        keystore: String,
        caCertificatePath: String? = nil,
        crlPath: String? = nil,
        autoRefreshInterval: Duration? = .seconds(5)
    ) throws(IdentityError) {
        self.keystore = Keystore(directory: keystore)
        self.anchorPath = caCertificatePath ?? self.keystore.caCertificatePath
        self.crlPath = crlPath ?? self.keystore.crlPath
        self.crlRequired = crlPath != nil
        self.autoRefreshInterval = autoRefreshInterval
        let snapshot = try Self.readSnapshot(
            keystore: self.keystore, anchorPath: anchorPath, crlPath: self.crlPath, crlRequired: crlRequired
        )
        self.state = Mutex(State(snapshot: snapshot, lastChangeCheck: .now))
    }

    // MARK: Signing

    /// The signer for a device at `time`, or why there is none.
    public func signingIdentity(for deviceId: String, at time: Date = Date()) -> Result<DeviceSigner, IdentityFailure> {
        identity(.device(deviceId), at: time)
    }

    /// The gateway's own signer (Merkle checkpoints).
    public func gatewayIdentity(for gatewayId: String, at time: Date = Date()) -> Result<DeviceSigner, IdentityFailure> {
        identity(.gateway(gatewayId), at: time)
    }

    public func identity(_ name: IdentityName, at time: Date) -> Result<DeviceSigner, IdentityFailure> {
        guard SubjectIdentifier.isValid(name.id) else { return .failure(.unknownDevice(name)) }
        guard let (entry, policy) = loadedIdentity(name) else { return .failure(.unknownDevice(name)) }
        return policy.decide(entry, name: name, at: time)
    }

    /// The cached files of `name` (loaded now if it was enrolled after the last load) and the
    /// policy to decide with; nil when nothing is enrolled under that name.
    func loadedIdentity(_ name: IdentityName) -> (LoadedIdentity, SigningPolicy)? {
        refreshIfDue()
        let (cached, policy) = state.withLock { state in (state.snapshot.identities[name], state.snapshot.policy) }
        if let cached { return (cached, policy) }
        // Enrolled after the last load: pick it up now, no restart or reload needed.
        let keystore = keystore
        guard let loaded = IdentityLoader.load(name, keystore: keystore, anchor: policy.anchor, otherKindIDs: { keystore.enrolledIDs(kind: name.kind.other) }) else {
            return nil
        }
        state.withLock { state in
            if state.snapshot.policy.anchor == policy.anchor, state.snapshot.identities[name] == nil {
                state.snapshot.identities[name] = loaded
            }
            if case .success(let signer) = loaded.signer {
                state.certificatesByThumbprint[signer.certificateThumbprint] = signer.certificate
            }
        }
        return (loaded, policy)
    }

    // MARK: Reloading

    /// Re-reads the trust anchor, CRL and every enrolled identity. On error the previous state stays.
    @discardableResult
    public func reload() throws(IdentityError) -> ReloadSummary {
        let snapshot = try Self.readSnapshot(keystore: keystore, anchorPath: anchorPath, crlPath: crlPath, crlRequired: crlRequired)
        state.withLock { state in
            state.snapshot = snapshot
            state.lastChangeCheck = .now
            state.lastRefreshError = nil
            for entry in snapshot.identities.values {
                if case .success(let signer) = entry.signer {
                    state.certificatesByThumbprint[signer.certificateThumbprint] = signer.certificate
                }
            }
        }
        return Self.summary(of: snapshot)
    }

    /// Stats the files behind the cache and reloads if any changed. Returns whether it reloaded.
    @discardableResult
    public func reloadIfChanged() throws(IdentityError) -> Bool {
        let snapshot = state.withLock { $0.snapshot }
        guard hasChanged(snapshot) else {
            state.withLock { $0.lastChangeCheck = .now }
            return false
        }
        try reload()
        return true
    }

    /// The error of the last automatic refresh, if it failed (the previous state is still in use).
    public var lastRefreshError: IdentityError? { state.withLock { $0.lastRefreshError } }

    /// How many devices the keystore holds an identity for (usable or not).
    public var enrolledDeviceCount: Int { enrolledDeviceIDs.count }

    /// The ids of the devices the keystore holds an identity for (usable or not).
    public var enrolledDeviceIDs: Set<String> { state.withLock { Set($0.snapshot.identities.keys.filter { $0.kind == .device }.map(\.id)) } }

    /// Whether the keystore holds an identity for device `id` (usable or not).
    public func isEnrolledDevice(_ id: String) -> Bool {
        state.withLock { $0.snapshot.identities[IdentityName(kind: .device, id: id)] != nil }
    }

    private func refreshIfDue() {
        guard let interval = autoRefreshInterval else { return }
        let due = state.withLock { state -> Bool in
            guard state.lastChangeCheck.duration(to: .now) >= interval else { return false }
            state.lastChangeCheck = .now  // one caller does the check, the others go on
            return true
        }
        guard due else { return }
        do {
            try reloadIfChanged()
        } catch {
            state.withLock { $0.lastRefreshError = error }
        }
    }

    private func hasChanged(_ snapshot: Snapshot) -> Bool {
        if FileFingerprint.of(anchorPath) != snapshot.anchorFile || FileFingerprint.of(crlPath) != snapshot.crlFile { return true }
        for (path, fingerprint) in snapshot.folders where FileFingerprint.of(path) != fingerprint { return true }
        for (name, entry) in snapshot.identities {
            if FileFingerprint.of(keystore.certificatePath(kind: name.kind, id: name.id)) != entry.certificateFile { return true }
            if FileFingerprint.of(keystore.keyPath(kind: name.kind, id: name.id)) != entry.keyFile { return true }
        }
        return false
    }

    private static func readSnapshot(keystore: Keystore, anchorPath: String, crlPath: String, crlRequired: Bool) throws(IdentityError) -> Snapshot {
        let anchorFile = FileFingerprint.of(anchorPath)
        let anchor = try CertificateCoding.loadCertificate(anchorPath)
        try CertificateAuthority.checkUsableAsCA(anchor, path: anchorPath, now: anchor.notValidBefore)
        let crlFile = FileFingerprint.of(crlPath)
        var crl: CertificateRevocationList?
        if crlFile != nil || crlRequired {
            let loaded = try CertificateRevocationList.load(crlPath)
            guard loaded.isSigned(by: anchor) else {
                throw .malformedFile(path: crlPath, reason: "CRL is not signed by the trust anchor \(anchorPath)")
            }
            crl = loaded
        }
        var identities: [IdentityName: LoadedIdentity] = [:]
        var folders: [String: FileFingerprint?] = [:]
        // A device may not share its id with a gateway: each kind's loader sees the other's ids.
        let enrolled = [IdentityKind.device: keystore.enrolledIDs(kind: .device), .gateway: keystore.enrolledIDs(kind: .gateway)]
        for kind in [IdentityKind.device, .gateway] {
            let folder = SecureFile.join(keystore.directory, kind.keystoreFolder)
            folders[folder] = FileFingerprint.of(folder)
            let others = enrolled[kind.other] ?? []
            for id in SecureFile.directoryEntries(folder) where SubjectIdentifier.isValid(id) {
                let name = IdentityName(kind: kind, id: id)
                folders[keystore.identityDirectory(kind: kind, id: id)] = FileFingerprint.of(keystore.identityDirectory(kind: kind, id: id))
                if let loaded = IdentityLoader.load(name, keystore: keystore, anchor: anchor, otherKindIDs: { others }) { identities[name] = loaded }
            }
        }
        return Snapshot(policy: SigningPolicy(anchor: anchor, crl: crl), anchorFile: anchorFile, crlFile: crlFile, identities: identities, folders: folders)
    }

    private static func summary(of snapshot: Snapshot) -> ReloadSummary {
        let names = snapshot.identities.keys.sorted { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }
        let failures = names.compactMap { name -> IdentityFailure? in
            if case .failure(let failure) = snapshot.identities[name]?.signer { return failure }
            return nil
        }
        return ReloadSummary(identities: names, failures: failures, crlNumber: snapshot.policy.crl?.crlNumber)
    }

    // MARK: Lookups for verification

    public var trustAnchor: Certificate { state.withLock { $0.snapshot.policy.anchor } }
    public var revocationList: CertificateRevocationList? { state.withLock { $0.snapshot.policy.crl } }

    /// Resolves a JWS `x5t#S256` to a certificate: current ones from memory, older (rotated) ones
    /// from the keystore's certificate archive.
    public func certificate(forThumbprint thumbprint: String) -> Certificate? {
        if let cached = state.withLock({ $0.certificatesByThumbprint[thumbprint] }) { return cached }
        guard let archived = keystore.archivedCertificate(thumbprint: thumbprint) else { return nil }
        state.withLock { $0.certificatesByThumbprint[thumbprint] = archived }
        return archived
    }
}
