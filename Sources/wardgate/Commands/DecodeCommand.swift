import ArgumentParser
import DeviceProfiles
import Foundation
import HexEncoding
import IEEE11073
import JSONDocument
import Observations

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one payload offline (no broker, no journal) and print FHIR Observations, one JSON object per line.",
        discussion: """
            Profile payloads: wardgate decode --profiles DIR --topic TOPIC (--payload TEXT | --payload-hex HEX)
            IEEE 11073-20601: wardgate decode --format ieee11073-20601 [--config-id HEX] --hex APDU [--hex APDU ...]
              feeds the APDUs in order to one manager session; prints each Observation and
              {"managerResponse":"<hex>"} for each APDU the manager sends. Device times carry no
              UTC offset; this machine's offset is applied and noted.
            Exit 0 when every input was valid, 1 when any was rejected (reason on stderr), 2 on usage errors.
            """)

    @Option(name: .long, help: "ieee11073-20601 to decode APDUs instead of a profile payload.")
    var format: String?

    @Option(name: .customLong("config-id"), help: "Standard configuration (hex, e.g. 0x0190) for a lone scan report.")
    var configId: String?

    @Option(name: .customLong("hex"), help: "An APDU in hex; repeat for a sequence.")
    var apdus: [String] = []

    @Option(name: .long, help: "Device profile directory.")
    var profiles: String?

    @Option(name: .long, help: "The MQTT topic the payload arrived on (selects the profile and the device id).")
    var topic: String?

    @Option(name: .long, help: "The payload as text.")
    var payload: String?

    @Option(name: .customLong("payload-hex"), help: "The payload as hex bytes.")
    var payloadHex: String?

    func run() throws {
        if let format {
            guard format == "ieee11073-20601", profiles == nil, topic == nil, payload == nil, payloadHex == nil, !apdus.isEmpty else {
                CommandSupport.printError("usage: wardgate decode --format ieee11073-20601 [--config-id HEX] --hex APDU [--hex APDU ...]")
                throw ExitCode(2)
            }
            try decodeAPDUs()
            return
        }
        guard apdus.isEmpty, configId == nil else {
            CommandSupport.printError("--hex and --config-id need --format ieee11073-20601")
            throw ExitCode(2)
        }
        guard let profiles, let topic, (payload == nil) != (payloadHex == nil) else {
            CommandSupport.printError("usage: wardgate decode --profiles DIR --topic TOPIC (--payload TEXT | --payload-hex HEX)")
            throw ExitCode(2)
        }
        let bytes: [UInt8]
        if let payload {
            bytes = Array(payload.utf8)
        } else {
            guard let decoded = try? Hex.decode(ignoringWhitespace: payloadHex ?? "") else {
                CommandSupport.printError("--payload-hex is not an even-length hex string")
                throw ExitCode(2)
            }
            bytes = decoded
        }
        let set: ProfileSet
        do { set = try ProfileSet.load(directory: profiles) } catch {
            CommandSupport.printError(error.description)
            throw ExitCode(2)
        }
        let receivedAt = Date()
        do {
            let readings = try PayloadDecoder.decode(topic: topic, payload: bytes, profiles: set, receivedAt: receivedAt)
            let normalizer = Normalizer()
            var lines: [String] = []
            for profiled in readings {
                let observation = try normalizer.normalize(
                    profiled.reading, receivedAt: receivedAt, plausibleRange: profiled.plausibleRange,
                    fallbackKey: Normalizer.payloadKey(bytes))
                lines.append(observation.resource.serialized)
            }
            lines.forEach { print($0) }
        } catch {
            CommandSupport.printError("decode error: \(error)")
            throw ExitCode(1)
        }
    }
}

extension DecodeCommand {
    func decodeAPDUs() throws {
        var standardConfig: UInt16?
        if let configId {
            guard let parsed = parseIEEE11073ConfigId(configId) else {
                CommandSupport.printError("--config-id must be hex, e.g. 0x0190")
                throw ExitCode(2)
            }
            standardConfig = parsed
        }
        let offset = TimeZone.current.secondsFromGMT()
        let events = decodeIEEE11073(hexAPDUs: apdus, configId: standardConfig, utcOffsetSeconds: offset)
        let normalizer = Normalizer()
        let receivedAt = Date()
        var rejected = false
        for event in events {
            for reading in event.readings {
                do {
                    let observation = try normalizer.normalize(reading, receivedAt: receivedAt, fallbackKey: event.inputHex)
                    print(observation.resource.serialized)
                } catch {
                    CommandSupport.printError("APDU \(event.index + 1): \(error)")
                    rejected = true
                }
            }
            for response in event.responseHex {
                print(JSONValue.object([JSONMember("managerResponse", .string(response))]).serialized)
            }
            for excluded in event.deadLetters {
                CommandSupport.printError("APDU \(event.index + 1): measurement not reported: \(excluded)")
            }
            if let rejection = event.rejection {
                CommandSupport.printError("APDU \(event.index + 1) rejected: \(rejection)")
                rejected = true
            }
        }
        if rejected { throw ExitCode(1) }
    }
}

