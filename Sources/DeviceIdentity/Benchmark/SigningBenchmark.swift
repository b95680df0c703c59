import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSONDocument
import X509

/// Aggregate JCS + JWS signing throughput with N concurrent workers (`idtool bench`).
public enum SigningBenchmark {
    public struct Report: Sendable, CustomStringConvertible {
        public var workers: Int
        public var signatures: Int
        public var elapsed: Duration
        public var payloadBytes: Int
        /// User + system CPU time of the whole process during the run. On a shared machine the
        /// wall-clock rate drops when other work competes for the cores; signatures per CPU-second
        /// does not, and says what dedicated cores would do.
        public var cpuSeconds: Double

        public var signaturesPerCPUSecond: Double { Double(signatures) / cpuSeconds }

        public var seconds: Double {
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        public var signaturesPerSecond: Double { Double(signatures) / seconds }

        public var description: String {
            let rate = Int(signaturesPerSecond.rounded())
            return "\(signatures) signatures (JCS + ES256 JWS, \(payloadBytes)-byte payload) with \(workers) workers in "
                + String(format: "%.3f", seconds) + " s: \(rate) signatures/s aggregate, \(rate / max(workers, 1)) per worker; "
                + "\(Int(signaturesPerCPUSecond.rounded())) per CPU-second (\(String(format: "%.2f", cpuSeconds / seconds)) cores busy)"
        }
    }

    /// Each worker canonicalizes `observation` and signs it `signaturesPerWorker` times; all
    /// workers share `signer`, as pipeline workers share the registry's cached signer.
    public static func run(
        workers: Int = 2,
        signaturesPerWorker: Int = 20_000,
        signer: DeviceSigner,
        observation: JSONValue = sampleObservation()
    ) async throws -> Report {
        let payloadBytes = try JCS.canonicalize(observation).count
        // Warm-up outside the measurement (page faults, lazy tables).
        for _ in 0..<200 { _ = try signer.sign(observation: observation) }
        let clock = ContinuousClock()
        let cpuBefore = processCPUSeconds()
        let start = clock.now
        let produced = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<max(workers, 1) {
                group.addTask {
                    var bytes = 0
                    for _ in 0..<signaturesPerWorker {
                        bytes &+= try signer.sign(JCS.canonicalize(observation)).utf8.count
                    }
                    return bytes
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: clock.now)
        let cpuSeconds = processCPUSeconds() - cpuBefore
        precondition(produced > 0)  // keeps the work observable to the optimizer
        return Report(
            workers: max(workers, 1), signatures: max(workers, 1) * signaturesPerWorker, elapsed: elapsed,
            payloadBytes: payloadBytes, cpuSeconds: cpuSeconds
        )
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// A signer with a throwaway self-issued certificate, for benchmarking without a keystore.
    public static func ephemeralSigner(id: String = "bench-device") throws -> DeviceSigner {
        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let now = Date()
        do {
            let name = try DistinguishedName { CommonName(id) }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: CertificateProfiles.randomSerialNumber(),
                publicKey: certificateKey.publicKey,
                notValidBefore: now,
                notValidAfter: now.addingTimeInterval(86_400),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(KeyUsage(digitalSignature: true))
                    SubjectAlternativeNames([.uniformResourceIdentifier(IdentityKind.device.urnPrefix + id)])
                },
                issuerPrivateKey: certificateKey
            )
            return try DeviceSigner(id: id, certificate: certificate, privateKey: key)
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError.cryptographicFailure("cannot create a benchmark certificate: \(error)")
        }
    }

    /// A realistic normalized vital-sign Observation (heart rate), about 700 bytes in JCS form.
    public static func sampleObservation(deviceID: String = "bench-device") -> JSONValue {
        [
            "resourceType": "Observation",
            "id": "0190f3b2-7c4e-7a1b-9d2e-5f6a7b8c9d0e",
            "meta": ["profile": ["http://hl7.org/fhir/StructureDefinition/heartrate"]],
            "status": "final",
            "category": [
                [
                    "coding": [
                        [
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs",
                            "display": "Vital Signs",
                        ]
                    ]
                ]
            ],
            "code": [
                "coding": [
                    ["system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"],
                    ["system": "urn:iso:std:iso:11073:10101", "code": "147842", "display": "MDC_ECG_HEART_RATE"],
                ]
            ],
            "subject": ["reference": "Patient/ward7b-bed12"],
            "effectiveDateTime": "2025-03-01T08:15:30.250Z",
            "device": ["identifier": ["system": "urn:ietf:rfc:3986", "value": .string("urn:wardgate:device:\(deviceID)")]],
            "valueQuantity": [
                "value": .number("72.0"), "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min",
            ],
            "referenceRange": [["low": ["value": .number("60"), "unit": "/min"], "high": ["value": .number("1.0e2"), "unit": "/min"]]],
        ]
    }
}

extension SigningBenchmark {
    /// Single-threaded cost of each step, in microseconds per operation, to see where time goes.
    public static func breakdown(signer: DeviceSigner, observation: JSONValue = sampleObservation(), iterations: Int = 20_000) throws -> [(step: String, microseconds: Double)] {
        let clock = ContinuousClock()
        func measure(_ body: () throws -> Int) rethrows -> Double {
            var sink = 0
            let start = clock.now
            for _ in 0..<iterations { sink &+= try body() }
            let elapsed = start.duration(to: clock.now)
            precondition(sink != 0)
            return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(iterations)
        }
        let payload = try JCS.canonicalize(observation)
        let digest = Array(SHA256.hash(data: payload))
        return [
            ("JCS canonicalization", try measure { try JCS.canonicalize(observation).count }),
            ("base64url of payload", measure { Base64URL.encode(payload).utf8.count }),
            ("ECDSA P-256 over 32 bytes (swift-crypto)", try measure { try signer.rawSignature(over: digest).count }),
            ("JWS sign of JCS bytes", try measure { try signer.sign(payload).utf8.count }),
            ("JCS + JWS", try measure { try signer.sign(JCS.canonicalize(observation)).utf8.count }),
        ]
    }
}
