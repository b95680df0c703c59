import DeviceProfiles
import Foundation
import JSONDocument
import Nomenclature
import Observations
import Testing
import WardgateTestSupport

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Paths {
    /// `<package root>`: this file is `<root>/Tests/DeviceProfilesTests/TestSupport.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shippedProfiles = packageRoot.appendingPathComponent("DeviceProfiles")
    static let fhirValidator = packageRoot.appendingPathComponent("Tests/DeviceProfilesTests/Resources/validate_fhir.py")

    /// `<dir>/shared/testdata`, walking up from this file.
    static func testdata() throws -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw TestFailure("no shared/testdata above \(#filePath)")
    }
}

enum Fixtures {
    static let wearableTopic = "wards/w3/devices/wr-0042/vitals"
    static let senmlTopic = "wards/w3/devices/bed-7.sensor/senml"
    /// 2025-11-21T10:00:00Z.
    static let deviceEpochMs = 1_763_719_200_000
    static let deviceTime = Date(timeIntervalSince1970: 1_763_719_200)
    /// 2025-11-21T10:01:00.250Z: exactly representable, so no rounding question.
    static let receivedAt = Date(timeIntervalSince1970: 1_763_719_260.25)
    static let receivedText = "2025-11-21T10:01:00.250Z"

    static func shipped() throws -> ProfileSet {
        do {
            return try ProfileSet.load(directory: Paths.shippedProfiles.path)
        } catch {
            throw TestFailure("the shipped profiles do not load:\n\(error)")
        }
    }

    /// A profile set from YAML written in the test, loaded through the same path as the shipped ones.
    static func profiles(_ files: [String: String]) throws -> ProfileSet {
        let directory = try TemporaryDirectory()
        for (name, text) in files { try directory.write(text, to: name) }
        do {
            return try ProfileSet.load(directory: directory.path)
        } catch {
            throw TestFailure("test profiles do not load:\n\(error)")
        }
    }

    static func profile(_ yaml: String) throws -> DeviceProfile {
        let set = try profiles(["test.yml": yaml])
        return try #require(set.profiles.first)
    }
}

/// Decodes then normalizes, the way the gateway does it.
func decodeAndNormalize(
    topic: String, payload: String, profiles: ProfileSet, receivedAt: Date = Fixtures.receivedAt,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [NormalizedObservation] {
    let bytes = Array(payload.utf8)
    let readings: [ProfiledReading]
    do {
        readings = try PayloadDecoder.decode(topic: topic, payload: bytes, profiles: profiles, receivedAt: receivedAt)
    } catch {
        throw TestFailure("decoding \(payload) on \(topic) failed: \(error)")
    }
    return try readings.map { profiled in
        try Normalizer().normalize(
            profiled.reading, receivedAt: receivedAt, plausibleRange: profiled.plausibleRange,
            fallbackKey: Normalizer.payloadKey(bytes))
    }
}

/// The DecodeError a payload gives; records an issue if it decodes.
func decodeError(topic: String, payload: [UInt8], profiles: ProfileSet, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeError? {
    do throws(DecodeError) {
        let readings = try PayloadDecoder.decode(topic: topic, payload: payload, profiles: profiles, receivedAt: Fixtures.receivedAt)
        Issue.record("expected a decode error, got \(readings.count) readings", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

func decodeError(topic: String, payload: String, profiles: ProfileSet, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeError? {
    decodeError(topic: topic, payload: Array(payload.utf8), profiles: profiles, sourceLocation: sourceLocation)
}

extension JSONValue {
    /// Follows a JSON pointer; nil when absent.
    func at(_ pointer: String) -> JSONValue? { JSONPointer(pointer)?.resolve(in: self) }

    /// `code.coding` (or any concept at `pointer`) as (system, code) pairs.
    func codings(_ pointer: String) -> [(system: String, code: String)] {
        (at(pointer + "/coding")?.arrayValue ?? []).map { ($0["system"]?.stringValue ?? "", $0["code"]?.stringValue ?? "") }
    }

    /// The MDC and LOINC codes of the concept at `pointer`.
    func conceptCodes(_ pointer: String) -> (mdc: [String], loinc: [String]) {
        let all = codings(pointer)
        return (all.filter { $0.system == Nomenclature.mdcSystem }.map(\.code), all.filter { $0.system == Nomenclature.loincSystem }.map(\.code))
    }

    var notes: [String] { (self["note"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue } }
}
