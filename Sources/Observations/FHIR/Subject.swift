/// Who a device is assigned to, from the device-assignment file.
public struct PatientAssignment: Sendable, Hashable {
    public let system: String
    public let value: String
    public let bed: String?

    public init(system: String, value: String, bed: String?) {
        self.system = system
        self.value = value
        self.bed = bed
    }
}

public enum WardgateSystems {
    /// Identifier system of the per-reading identifier the gateway derives.
    public static let readingIdentifier = "urn:wardgate:reading"
    /// Identifier system for devices in `Observation.device`.
    public static let deviceIdentifier = "urn:wardgate:device"
    /// Meta tag system for gateway flags such as `implausible`.
    public static let flags = "urn:wardgate:flag"
    public static let dataAbsentReason = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
    /// The display of the `implausible` flag tag.
    public static let implausibleDisplay = "Outside the profile's plausible range"
    /// The display and text of the vital-signs category.
    public static let vitalSignsDisplay = "Vital Signs"
}
