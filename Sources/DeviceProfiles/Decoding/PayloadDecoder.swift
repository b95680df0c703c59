import Foundation
import JSONDocument
import Nomenclature
import Observations

/// Decodes one payload with its device's profile. Stateless, so any thread may call it.
public enum PayloadDecoder {
    public static func decode(topic: String, payload: [UInt8], profiles: ProfileSet, receivedAt: Date) throws(DecodeError) -> [ProfiledReading] {
        guard let (profile, deviceId) = profiles.route(topic: topic) else {
            throw DecodeError(.unknownTopic, "no profile subscribes to topic \"\(topic)\"")
        }
        return try decode(payload: payload, deviceId: deviceId, profile: profile, receivedAt: receivedAt)
    }

    public static func decode(payload: [UInt8], deviceId: String, profile: DeviceProfile, receivedAt: Date) throws(DecodeError) -> [ProfiledReading] {
        // Device ids become identifiers and file names later: keep them plain.
        guard DeviceIdentifier.isValid(deviceId) else {
            throw DecodeError(.invalidDeviceId, "device id \"\(deviceId.prefix(64))\" from the topic is not \(DeviceIdentifier.rule)")
        }
        guard payload.count <= profile.maxPayloadBytes else {
            throw DecodeError(.oversized, "payload of \(payload.count) bytes exceeds the profile's limit of \(profile.maxPayloadBytes)")
        }
        let readings: [ProfiledReading]
        switch profile.format {
        case .json: readings = try JSONPayload.decode(try parse(payload), deviceId: deviceId, profile: profile)
        case .senml: readings = try SenMLPayload.decode(try parse(payload), deviceId: deviceId, profile: profile, receivedAt: receivedAt)
        case .ieee11073:
            throw DecodeError(.unsupportedFormat, "ieee11073-20601 payloads are decoded by the 11073 manager, not by a profile mapping")
        }
        guard !readings.isEmpty else {
            throw DecodeError(.noReadings, "the payload holds none of the metrics of profile \(profile.id)")
        }
        return readings
    }

    static func parse(_ payload: [UInt8]) throws(DecodeError) -> JSONValue {
        guard String(validating: payload, as: UTF8.self) != nil else {
            throw DecodeError(.invalidUTF8, "payload is not valid UTF-8")
        }
        do {
            return try JSONParser.parse(payload)
        } catch {
            throw DecodeError(.invalidJSON, error.description)
        }
    }

    /// Numbers at or beyond this magnitude are refused: far past any vital sign or timestamp, and
    /// far enough below Decimal's limit (about 3.4e165) that scaling and unit conversion cannot overflow.
    static let maxMagnitude = Decimal(sign: .plus, exponent: 100, significand: 1)

    static func number(_ value: JSONValue, at location: String) throws(DecodeError) -> DecimalNumber {
        guard case .number(let lexeme) = value else {
            throw DecodeError(.wrongType, "\(location) must be a number, found \(value.typeName)")
        }
        guard let number = DecimalNumber(lexeme), number.isExactlyRepresentable || isInRange(number) else {
            throw DecodeError(.wrongType, "\(location) holds a number out of range")
        }
        return number
    }

    /// `DecimalNumber.decimal` reads an unrepresentable number as 0: refuse it instead. Numbers
    /// of at most 36 significant digits pass without this (they are below 10^36).
    private static func isInRange(_ number: DecimalNumber) -> Bool {
        guard let decimal = Decimal(string: number.text, locale: Locale(identifier: "en_US_POSIX")) else { return false }
        return !decimal.isNaN && abs(decimal) < maxMagnitude
    }

    static func scaled(_ value: DecimalNumber, by scale: DecimalNumber?) -> DecimalNumber {
        guard let scale else { return value }
        return value.multiplied(by: scale)
    }
}
