import ArgumentParser
import DeviceProfiles
import Foundation
import Observations

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one payload offline (no broker, no journal) and print FHIR Observations, one JSON object per line.",
        discussion: "Exit 0 when decoded, 1 on a decode error (reason on stderr), 2 on usage errors.")

    @Option(name: .long, help: "Device profile directory.")
    var profiles: String?

    @Option(name: .long, help: "The MQTT topic the payload arrived on (selects the profile and the device id).")
    var topic: String?

    @Option(name: .long, help: "The payload as text.")
    var payload: String?

    @Option(name: .customLong("payload-hex"), help: "The payload as hex bytes.")
    var payloadHex: String?

    func run() throws {
        guard let profiles, let topic, (payload == nil) != (payloadHex == nil) else {
            CommandSupport.printError("usage: wardgate decode --profiles DIR --topic TOPIC (--payload TEXT | --payload-hex HEX)")
            throw ExitCode(2)
        }
        let bytes: [UInt8]
        if let payload {
            bytes = Array(payload.utf8)
        } else {
            guard let decoded = Hex.decode(payloadHex ?? "") else {
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
        } catch let error as DecodeError {
            CommandSupport.printError("decode error: \(error)")
            throw ExitCode(1)
        } catch {
            CommandSupport.printError("decode error: \(error)")
            throw ExitCode(1)
        }
    }
}

enum Hex {
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.filter { !$0.isWhitespace })
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let byte = UInt8(String(chars[i...i + 1]), radix: 16) else { return nil }
            bytes.append(byte)
            i += 2
        }
        return bytes
    }
}
