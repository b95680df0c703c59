import Benchmark
import DeviceIdentity
import DeviceProfiles
import Foundation
import HotPathFixtures
import JSONDocument
import Observations

/// Each piece of the hot path, before (the code it replaced, written here with the APIs it used)
/// and after. One operation is one Observation unless the name says otherwise.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(2))
    let fixtures = try! HotPathFixtures()
    let observations = try! fixtures.normalized()
    let temperature = observations[3]
    let signer = fixtures.signer
    let payload = try! temperature.canonicalBytes()
    let header = signer.protectedHeader(signedAt: 1_795_000_000)

    Benchmark("observation bytes: before (JSONValue tree + JCS.canonicalize)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try JCS.canonicalize(temperature.resource)) }
    }
    Benchmark("observation bytes: after (ObservationRenderer, canonical)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try temperature.canonicalBytes()) }
    }
    Benchmark("stored bytes: before (JSONValue tree + serializedBytes)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(temperature.resource.serializedBytes) }
    }
    Benchmark("stored bytes: after (ObservationRenderer, as written)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try temperature.storedBytes()) }
    }

    let millis = DecimalNumber("1795000000123")!
    Benchmark("epoch-ms timestamp: before (Decimal quotient)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Date(timeIntervalSince1970: NSDecimalNumber(decimal: millis.decimal / 1000).doubleValue))
        }
    }
    Benchmark("RFC 3339 timestamp: before (Calendar)") { benchmark in
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 3600)!
        for _ in benchmark.scaledIterations {
            blackHole(calendar.date(from: DateComponents(year: 2026, month: 11, day: 21, hour: 10, minute: 0, second: 0, nanosecond: 123_000_000)))
        }
    }
    Benchmark("RFC 3339 timestamp: after (parseRFC3339, CivilTime)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(FHIRTime.parseRFC3339("2026-11-21T10:00:00.123+01:00")) }
    }

    let fahrenheit = DecimalNumber("98.6")!
    let conversion = UnitConversion.find(from: "[degF]", to: "Cel")!
    Benchmark("[degF] → Cel: before (Decimal)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(DecimalNumber((fahrenheit.decimal - 32) * (Decimal(5) / Decimal(9)), scale: 2)) }
    }
    Benchmark("[degF] → Cel: after (ExactDecimal)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(conversion.convert(fahrenheit)) }
    }

    Benchmark("payload decode: 1 JSON payload, 5 readings") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try fixtures.readings()) }
    }
    Benchmark("normalize: 5 readings") { benchmark in
        let readings = try fixtures.readings()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for profiled in readings {
                blackHole(try Normalizer().normalize(profiled.reading, receivedAt: fixtures.receivedAt, plausibleRange: profiled.plausibleRange))
            }
        }
    }

    Benchmark("sign: before (DeviceSigner.sign, JWS text)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try signer.sign(payload)) }
    }
    Benchmark("sign: after (raw r‖s over a prepared iat header)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try signer.signature(over: payload, header: header)) }
    }
}
