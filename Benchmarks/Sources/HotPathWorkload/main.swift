import DeviceIdentity
import Foundation
import HotPathFixtures
import JSONDocument
import Observations

// A fixed, synchronous workload for `valgrind --tool=callgrind` (valgrind 3.19 cannot run the
// daemon: Swift's async main parks the main thread in dispatch's sigsuspend, which crashes it).
// `hotpath-workload before|after N`: N bench payloads (5 Observations each) decoded, normalized,
// made into signed bytes and leaf-ready stored bytes, the way the processor's workers do.
let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "after"
let payloads = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
let fixtures = try HotPathFixtures()
let signer = fixtures.signer
var produced = 0
for _ in 0..<payloads {
    for observation in try fixtures.normalized() {
        switch mode {
        case "before":
            let canonical = try JCS.canonicalize(observation.resource)
            produced &+= try signer.sign(canonical).utf8.count + observation.resource.serializedBytes.count
        default:
            let canonical = try observation.canonicalBytes()
            let header = signer.protectedHeader(signedAt: 1_795_000_000)
            produced &+= try signer.signature(over: canonical, header: header).count + observation.storedBytes().count
        }
    }
}
print("\(mode): \(payloads) payloads, \(produced) bytes")
