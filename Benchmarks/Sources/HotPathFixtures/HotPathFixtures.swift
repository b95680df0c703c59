import DeviceIdentity
import DeviceProfiles
import Foundation
import JSONDocument
import Observations

/// The inputs every micro-benchmark and the callgrind workload share: the shipped wearable
/// profile, a bench payload (5 Observations), and a device signer from a CA made in a
/// temporary directory.
public struct HotPathFixtures: Sendable {
    public let profiles: ProfileSet
    public let profile: DeviceProfile
    public let deviceId = "bench-0001"
    /// What `wardgate bench --payload json` publishes.
    public let payload: [UInt8] = Array(#"{"ts":1795000000123,"hr":72,"spo2":97,"rr":16,"temp_c":36.8,"bp":{"sys":118,"dia":76}}"#.utf8)
    public let receivedAt = Date(timeIntervalSince1970: 1_795_000_000.125)
    public let signer: DeviceSigner

    public init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        profiles = try ProfileSet.load(directory: root.appendingPathComponent("DeviceProfiles").path)
        guard let wearable = profiles.profiles.first(where: { $0.id == "generic-wearable-json" }) else {
            throw IdentityError.invalidArgument("the shipped profiles have no generic-wearable-json")
        }
        profile = wearable
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wardgate-hotpath-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = try CertificateAuthority.create(directory: directory + "/ca", name: "Bench CA")
        let keystore = Keystore(directory: directory + "/keystore")
        _ = try Enrollment.enroll(kind: .device, id: deviceId, ca: ca, keystore: keystore)
        let registry = try IdentityRegistry(keystore: keystore.directory, autoRefreshInterval: nil)
        signer = try registry.signingIdentity(for: deviceId).get()
    }

    /// The readings of `payload`, decoded with the wearable profile.
    public func readings() throws -> [ProfiledReading] {
        try PayloadDecoder.decode(payload: payload, deviceId: deviceId, profile: profile, receivedAt: receivedAt)
    }

    public func normalized() throws -> [NormalizedObservation] {
        try readings().map {
            try Normalizer().normalize($0.reading, receivedAt: receivedAt, plausibleRange: $0.plausibleRange, fallbackKey: "")
        }
    }
}
