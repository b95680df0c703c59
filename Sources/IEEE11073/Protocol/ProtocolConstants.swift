/// IEEE 11073-20601 protocol constants: APDU tags, DATA-apdu choices, result and reason codes.
///
/// Metric and unit codes (what is measured, in what unit) are not here: they live in the shared
/// `Nomenclature` table. These are the protocol's own numbers.
public enum APDUTag {
    public static let aarq: UInt16 = 0xE200
    public static let aare: UInt16 = 0xE300
    public static let rlrq: UInt16 = 0xE400
    public static let rlre: UInt16 = 0xE500
    public static let abrt: UInt16 = 0xE600
    public static let prst: UInt16 = 0xE700
}

/// The `choice` of a DATA-apdu message.
public enum DataChoice {
    public static let roivEventReport: UInt16 = 0x0100
    public static let roivConfirmedEventReport: UInt16 = 0x0101
    public static let roivGet: UInt16 = 0x0103
    public static let roivSet: UInt16 = 0x0104
    public static let roivConfirmedSet: UInt16 = 0x0105
    public static let roivAction: UInt16 = 0x0106
    public static let roivConfirmedAction: UInt16 = 0x0107
    public static let rorsConfirmedEventReport: UInt16 = 0x0201
    public static let rorsGet: UInt16 = 0x0203
    public static let rorsConfirmedSet: UInt16 = 0x0205
    public static let rorsConfirmedAction: UInt16 = 0x0207
    public static let roer: UInt16 = 0x0300
    public static let rorj: UInt16 = 0x0400
}

/// Association protocol constants (PhdAssociationInformation and friends).
public enum AssociationConstants {
    public static let assocVersion1: UInt32 = 0x8000_0000
    public static let dataProtoId20601: UInt16 = 20601
    public static let protocolVersion1: UInt32 = 0x8000_0000
    public static let protocolVersion2: UInt32 = 0x4000_0000
    public static let protocolVersion3: UInt32 = 0x2000_0000
    public static let encodingMDER: UInt16 = 0x8000
    public static let encodingXER: UInt16 = 0x4000
    public static let encodingPER: UInt16 = 0x2000
    public static let nomenclatureVersion1: UInt32 = 0x8000_0000
    public static let systemTypeManager: UInt32 = 0x8000_0000
    public static let systemTypeAgent: UInt32 = 0x0080_0000
    /// dev-config-id the manager sends in its AARE.
    public static let managerConfigResponse: UInt16 = 0x0000
    /// Extended (agent-defined) configuration ids start here; lower ids are standard configurations.
    public static let extendedConfigurationStart: UInt16 = 0x4000
    public static let extendedConfigurationEnd: UInt16 = 0x7FFF
}

/// AARE result codes.
public enum AssociationResult: UInt16, Sendable, Hashable, CaseIterable {
    case accepted = 0
    case rejectedPermanent = 1
    case rejectedTransient = 2
    case acceptedUnknownConfig = 3
    case rejectedNoCommonProtocol = 4
    case rejectedNoCommonParameter = 5
    case rejectedUnknown = 6
    case rejectedUnauthorized = 7
    case rejectedUnsupportedAssocVersion = 8

    public var isAccepted: Bool { self == .accepted || self == .acceptedUnknownConfig }
}

public enum ReleaseRequestReason {
    public static let normal: UInt16 = 0
    public static let noMoreConfigurations: UInt16 = 1
    public static let configurationChanged: UInt16 = 2
}

public enum ReleaseResponseReason {
    public static let normal: UInt16 = 0
}

public enum AbortReason: UInt16, Sendable, Hashable, CaseIterable {
    case undefined = 0
    case bufferOverflow = 1
    case responseTimeout = 2
    case configurationTimeout = 3
}

/// ROER error values.
public enum ErrorValue {
    public static let noSuchObjectInstance: UInt16 = 1
    public static let accessDenied: UInt16 = 2
    public static let noSuchAction: UInt16 = 9
    public static let invalidObjectInstance: UInt16 = 17
    public static let protocolViolation: UInt16 = 23
    public static let notAllowedByObject: UInt16 = 24
    public static let actionTimedOut: UInt16 = 25
    public static let actionAborted: UInt16 = 26
}

/// RORJ problem codes.
public enum RejectProblem {
    public static let unrecognizedAPDU: UInt16 = 0
    public static let badlyStructuredAPDU: UInt16 = 2
    public static let unrecognizedOperation: UInt16 = 101
    public static let resourceLimitation: UInt16 = 103
    public static let unexpectedError: UInt16 = 303
}

/// ConfigReportRsp results.
public enum ConfigResult: UInt16, Sendable, Hashable, CaseIterable {
    case acceptedConfig = 0
    case unsupportedConfig = 1
    case standardConfigUnknown = 2
}

/// Event types (MDC_NOTI_*), partition OBJ.
public enum EventType {
    public static let config: UInt16 = 0x0D1C
    public static let scanReportFixed: UInt16 = 0x0D1D
    public static let scanReportVar: UInt16 = 0x0D1E
    public static let scanReportMPFixed: UInt16 = 0x0D1F
    public static let scanReportMPVar: UInt16 = 0x0D20
    public static let segmentData: UInt16 = 0x0D21
    public static let unbufScanReportVar: UInt16 = 3362
    public static let unbufScanReportFixed: UInt16 = 3363
    public static let unbufScanReportGrouped: UInt16 = 3364
    public static let unbufScanReportMPVar: UInt16 = 3365
    public static let unbufScanReportMPFixed: UInt16 = 3366
    public static let unbufScanReportMPGrouped: UInt16 = 3367
    public static let bufScanReportVar: UInt16 = 3368
    public static let bufScanReportFixed: UInt16 = 3369
    public static let bufScanReportGrouped: UInt16 = 3370
    public static let bufScanReportMPVar: UInt16 = 3371
    public static let bufScanReportMPFixed: UInt16 = 3372
    public static let bufScanReportMPGrouped: UInt16 = 3373

    /// Scan reports the MDS object (handle 0) sends.
    public static let mdsScanReports: Set<UInt16> = [scanReportFixed, scanReportVar, scanReportMPFixed, scanReportMPVar]
    /// Scan reports scanner objects send (3362-3373).
    public static let scannerReports: Set<UInt16> = Set(unbufScanReportVar...bufScanReportMPGrouped)

    public static func name(_ type: UInt16) -> String {
        switch type {
        case config: "MDC_NOTI_CONFIG"
        case scanReportFixed: "MDC_NOTI_SCAN_REPORT_FIXED"
        case scanReportVar: "MDC_NOTI_SCAN_REPORT_VAR"
        case scanReportMPFixed: "MDC_NOTI_SCAN_REPORT_MP_FIXED"
        case scanReportMPVar: "MDC_NOTI_SCAN_REPORT_MP_VAR"
        case segmentData: "MDC_NOTI_SEGMENT_DATA"
        case unbufScanReportVar: "MDC_NOTI_UNBUF_SCAN_REPORT_VAR"
        case unbufScanReportFixed: "MDC_NOTI_UNBUF_SCAN_REPORT_FIXED"
        case unbufScanReportGrouped: "MDC_NOTI_UNBUF_SCAN_REPORT_GROUPED"
        case unbufScanReportMPVar: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_VAR"
        case unbufScanReportMPFixed: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_FIXED"
        case unbufScanReportMPGrouped: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_GROUPED"
        case bufScanReportVar: "MDC_NOTI_BUF_SCAN_REPORT_VAR"
        case bufScanReportFixed: "MDC_NOTI_BUF_SCAN_REPORT_FIXED"
        case bufScanReportGrouped: "MDC_NOTI_BUF_SCAN_REPORT_GROUPED"
        case bufScanReportMPVar: "MDC_NOTI_BUF_SCAN_REPORT_MP_VAR"
        case bufScanReportMPFixed: "MDC_NOTI_BUF_SCAN_REPORT_MP_FIXED"
        case bufScanReportMPGrouped: "MDC_NOTI_BUF_SCAN_REPORT_MP_GROUPED"
        default: "event type \(type)"
        }
    }
}

/// Action types (MDC_ACT_*).
public enum ActionType {
    public static let segmentClear: UInt16 = 3084
    public static let segmentGetInfo: UInt16 = 3085
    public static let setTime: UInt16 = 3095
    public static let dataRequest: UInt16 = 3099
    public static let segmentTriggerTransfer: UInt16 = 3100
}

/// Object classes (MDC_MOC_*), partition OBJ.
public enum ObjectClass {
    public static let metric: UInt16 = 4
    public static let enumeration: UInt16 = 5
    public static let numeric: UInt16 = 6
    public static let realTimeSampleArray: UInt16 = 9
    public static let scanner: UInt16 = 16
    public static let configurableScanner: UInt16 = 17
    public static let episodicScanner: UInt16 = 18
    public static let periodicScanner: UInt16 = 19
    public static let mds: UInt16 = 37
    public static let pmStore: UInt16 = 61
    public static let pmSegment: UInt16 = 62

    public static func name(_ objectClass: UInt16) -> String {
        switch objectClass {
        case metric: "MDC_MOC_VMO_METRIC"
        case enumeration: "MDC_MOC_VMO_METRIC_ENUM"
        case numeric: "MDC_MOC_VMO_METRIC_NU"
        case realTimeSampleArray: "MDC_MOC_VMO_METRIC_SA_RT"
        case scanner: "MDC_MOC_SCAN"
        case configurableScanner: "MDC_MOC_SCAN_CFG"
        case episodicScanner: "MDC_MOC_SCAN_CFG_EPI"
        case periodicScanner: "MDC_MOC_SCAN_CFG_PERI"
        case mds: "MDC_MOC_VMS_MDS_SIMP"
        case pmStore: "MDC_MOC_VMO_PMSTORE"
        case pmSegment: "MDC_MOC_PM_SEGMENT"
        default: "object class \(objectClass)"
        }
    }
}

/// Attribute ids (MDC_ATTR_*), partition OBJ.
public enum AttributeId {
    public static let idHandle: UInt16 = 2337
    public static let idLabelString: UInt16 = 2343
    public static let idModel: UInt16 = 2344
    public static let idPhysio: UInt16 = 2347
    public static let idProductionSpec: UInt16 = 2349
    public static let idType: UInt16 = 2351
    public static let measurementStatus: UInt16 = 2375
    public static let nuCompoundObservedValue: UInt16 = 2379
    public static let nuObservedValue: UInt16 = 2384
    public static let systemId: UInt16 = 2436
    public static let systemType: UInt16 = 2438
    public static let timeAbsolute: UInt16 = 2439
    public static let timeRelative: UInt16 = 2447
    public static let timeStampAbsolute: UInt16 = 2448
    public static let timeStampRelative: UInt16 = 2449
    public static let unitCode: UInt16 = 2454
    public static let unitLabelString: UInt16 = 2457
    public static let devConfigId: UInt16 = 2628
    public static let mdsTimeInfo: UInt16 = 2629
    public static let metricSpecSmall: UInt16 = 2630
    public static let sourceHandleReference: UInt16 = 2631
    public static let enumObservedValueSimpleOID: UInt16 = 2633
    public static let enumObservedValueSimpleString: UInt16 = 2634
    public static let regCertDataList: UInt16 = 2635
    public static let nuObservedValueBasic: UInt16 = 2636
    public static let scanHandleAttributeValueMap: UInt16 = 2643
    public static let attributeValueMap: UInt16 = 2645
    public static let nuObservedValueSimple: UInt16 = 2646
    public static let systemTypeSpecList: UInt16 = 2650
    public static let enumObservedValueSimpleBitString: UInt16 = 2661
    public static let enumObservedValueBasicBitString: UInt16 = 2662
    public static let metricStructSmall: UInt16 = 2675
    public static let nuCompoundObservedValueSimple: UInt16 = 2676
    public static let nuCompoundObservedValueBasic: UInt16 = 2677
    public static let idPhysioList: UInt16 = 2678
    public static let scanHandleList: UInt16 = 2679
}

/// MeasurementStatus bits (MDC_ATTR_MSMT_STAT and NuObsValue.state).
public enum MeasurementStatus {
    public static let invalid: UInt16 = 0x8000
    public static let questionable: UInt16 = 0x4000
    public static let notAvailable: UInt16 = 0x2000
    public static let calibrationOngoing: UInt16 = 0x1000
    public static let testData: UInt16 = 0x0800
    public static let demoData: UInt16 = 0x0400
    public static let validatedData: UInt16 = 0x0080
    public static let earlyIndication: UInt16 = 0x0040
    public static let measurementOngoing: UInt16 = 0x0020
}
