import Crypto
import Foundation
import HexEncoding
import JSONDocument
import Nomenclature

/// Turns Readings into FHIR R4 Observations (HL7 PHD IG and R4 vital-signs conventions).
public struct Normalizer: Sendable {
    public init() {}

    /// - Parameters:
    ///   - plausibleRange: bounds in the published unit; a value outside is kept but flagged.
    ///   - fallbackKey: distinguishes readings whose device sent no time (for example a hash of
    ///     the raw payload), so a redelivered message maps to the same identifier.
    public func normalize(
        _ reading: Reading,
        receivedAt: Date,
        plausibleRange: PlausibleRange? = nil,
        assignment: PatientAssignment? = nil,
        fallbackKey: String = ""
    ) throws(NormalizationError) -> NormalizedObservation {
        var notes: [String] = []
        var implausible: [String] = []
        let metric = reading.metric

        func convert(_ measured: MeasuredValue, label: String) throws(NormalizationError) -> MeasuredValue {
            guard case .quantity(let q) = measured else { return measured }
            guard let conversion = UnitConversion.find(from: q.unit, to: metric.canonicalUnit) else {
                throw .unitNotConvertible(metric: metric.reference, unit: q.unit, canonical: metric.canonicalUnit)
            }
            if let range = plausibleRange, !range.contains(q.value) {
                implausible.append("\(label) \(q.value) \(q.unit) is outside the plausible range \(range.lowText)–\(range.highText) \(q.unit)")
            }
            if !conversion.isIdentity {
                notes.append("\(label) converted from \(q.value) \(q.unit).")
            }
            return .quantity(Quantity(value: conversion.convert(q.value), unit: metric.canonicalUnit))
        }

        let value: ReadingValue
        switch reading.value {
        case .single(let measured):
            guard !metric.isPanel else { throw .panelNeedsComponents(metric: metric.reference) }
            value = .single(try convert(measured, label: metric.display))
        case .panel(let components):
            guard metric.isPanel else { throw .notAPanel(metric: metric.reference) }
            guard !components.isEmpty else { throw .panelNeedsComponents(metric: metric.reference) }
            var converted: [ComponentRole: MeasuredValue] = [:]
            for term in metric.components {
                if let measured = components[term.role] {
                    converted[term.role] = try convert(measured, label: term.display)
                }
            }
            for role in components.keys where metric.component(role) == nil {
                throw .unknownComponent(metric: metric.reference, role: role.rawValue)
            }
            value = .panel(converted)
        }
        if !implausible.isEmpty {
            notes.append("Implausible value kept as reported: " + implausible.joined(separator: "; ") + ".")
        }
        if let time = reading.deviceTime, time.offsetAssumed {
            notes.append("The device time carried no UTC offset; the gateway's offset \(FHIRTime.offsetText(time.utcOffsetSeconds)) was applied.")
        }
        if reading.deviceTime == nil {
            notes.append("The device sent no measurement time; effectiveDateTime is the gateway receive time.")
        }

        let id = Normalizer.readingId(deviceId: reading.deviceId, metricCode: metric.code, deviceTime: reading.deviceTime?.instant, fallbackKey: fallbackKey)
        let content = ObservationContent(
            id: id, reading: reading, value: value, receivedAt: receivedAt,
            assignment: assignment, notes: notes, implausible: !implausible.isEmpty)
        return NormalizedObservation(content)
    }

    /// A stable id from device, metric and device time: the same reading always gets the same id,
    /// so broker redeliveries are recognized as duplicates. 128 bits of SHA-256, hex (a valid FHIR id).
    public static func readingId(deviceId: String, metricCode: UInt32, deviceTime: Date?, fallbackKey: String) -> String {
        var hasher = SHA256()
        var material: [UInt8] = []
        material.reserveCapacity(deviceId.utf8.count + 64 + fallbackKey.utf8.count)
        material += deviceId.utf8
        material.append(0)
        FHIRTimeText.appendDigits(UInt64(metricCode), to: &material)
        material.append(0)
        if let deviceTime {
            material += String(Int64((deviceTime.timeIntervalSince1970 * 1000).rounded())).utf8
        } else {
            material += "received:".utf8
            material += fallbackKey.utf8
        }
        hasher.update(data: material)
        return Hex.encode(hasher.finalize().prefix(16))
    }
}

public struct PlausibleRange: Sendable, Hashable, CustomStringConvertible {
    public let low: Decimal
    public let high: Decimal
    /// The bounds exactly, when they have at most 36 significant digits, for `contains`.
    private let exactBounds: (low: ExactDecimal, high: ExactDecimal)?
    /// `low` and `high` as `Decimal` prints them, for the implausible-value note.
    let lowText: String
    let highText: String

    public init?(low: Decimal, high: Decimal) {
        guard low <= high else { return nil }
        self.low = low
        self.high = high
        lowText = low.description
        highText = high.description
        if let exactLow = ExactDecimal(plainText: lowText), let exactHigh = ExactDecimal(plainText: highText) {
            exactBounds = (exactLow, exactHigh)
        } else {
            exactBounds = nil
        }
    }

    public func contains(_ value: Decimal) -> Bool { value >= low && value <= high }

    /// The same answer as `contains(value.decimal)`, without Foundation in the common case.
    public func contains(_ value: DecimalNumber) -> Bool {
        if let (exactLow, exactHigh) = exactBounds, let exact = value.exact,
            let belowLow = exact < exactLow, let aboveHigh = exactHigh < exact
        {
            return !belowLow && !aboveHigh
        }
        return contains(value.decimal)
    }

    public var description: String { "[\(lowText), \(highText)]" }

    public static func == (lhs: PlausibleRange, rhs: PlausibleRange) -> Bool { lhs.low == rhs.low && lhs.high == rhs.high }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(low)
        hasher.combine(high)
    }
}

public struct NormalizedObservation: Sendable, Hashable {
    public let id: String
    public let deviceId: String
    public let metricCode: UInt32
    public let effectiveAt: Date
    public let issuedAt: Date
    public let implausible: Bool
    let content: ObservationContent

    init(_ content: ObservationContent) {
        self.content = content
        id = content.id
        deviceId = content.reading.deviceId
        metricCode = content.reading.metric.code
        effectiveAt = content.reading.deviceTime?.instant ?? content.receivedAt
        issuedAt = content.receivedAt
        implausible = content.implausible
    }

    /// The FHIR R4 Observation as a JSON tree (built on each call; the hot path uses the bytes).
    public var resource: JSONValue { ObservationResource.build(content) }

    /// The RFC 8785 (JCS) bytes of `resource`, written without building it: what is signed.
    public func canonicalBytes() throws(CanonicalNumber.Failure) -> [UInt8] {
        try ObservationRenderer.render(content, numbers: .canonical)
    }

    /// A short human-readable value ("72 /min", "120/80 mm[Hg]", "absent"), for the demo's live view.
    public var valueSummary: String {
        switch content.value {
        case .single(.quantity(let quantity)):
            return "\(quantity.value.text) \(quantity.unit)"
        case .single(.absent):
            return "absent"
        case .panel(let components):
            let ordered = ObservationContent.orderedComponents(content.reading.metric, components).map(\.1)
            func quantity(_ measured: MeasuredValue?) -> Quantity? {
                if case .quantity(let quantity)? = measured { quantity } else { nil }
            }
            return ordered.compactMap { quantity($0)?.value.text }.joined(separator: "/") + " " + (quantity(ordered.first)?.unit ?? "")
        }
    }

    /// `resource` in JCS member order with its numbers as the device wrote them ("2.0"), so it
    /// keeps the precision FHIR cares about; canonicalizing its numbers gives `canonicalBytes()`.
    public func storedBytes() throws(CanonicalNumber.Failure) -> [UInt8] {
        try ObservationRenderer.render(content, numbers: .asWritten)
    }
}

public enum NormalizationError: Error, Sendable, Equatable, CustomStringConvertible {
    case unitNotConvertible(metric: String, unit: String, canonical: String)
    case panelNeedsComponents(metric: String)
    case notAPanel(metric: String)
    case unknownComponent(metric: String, role: String)

    public var description: String {
        switch self {
        case .unitNotConvertible(let metric, let unit, let canonical):
            "\(metric): unit \"\(unit)\" cannot be converted to \"\(canonical)\""
        case .panelNeedsComponents(let metric): "\(metric) is a panel and needs component values"
        case .notAPanel(let metric): "\(metric) is not a panel; it takes a single value"
        case .unknownComponent(let metric, let role): "\(metric) has no component \"\(role)\""
        }
    }
}

extension Normalizer {
    /// A key for readings without a device time: the SHA-256 of the raw payload, so the same
    /// message redelivered maps to the same reading id.
    public static func payloadKey(_ payload: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: payload))
    }
}
