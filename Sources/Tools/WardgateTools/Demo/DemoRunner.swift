import DeviceIdentity
import EmbeddedLedger
import Foundation
import Gateway
import IEEE11073
import Journal
import Ledger
import Logging
import MQTTIngest
import Simulation
import WardgateTestSupport

/// `wardgate demo`: a private broker, a simulated ward, and the gateway, all in one process,
/// with a live summary. Everything it starts it stops, and its state is temporary.
public struct DemoRunner: Sendable {
    public let devices: Int
    public let duration: Double
    public let profilesDirectory: String
    public let ratePerDevice: Double
    public let ledgerKind: ToolLedgerKind

    public init(devices: Int, duration: Double, profilesDirectory: String, ratePerDevice: Double = 1, ledger: ToolLedgerKind = .embedded) {
        self.devices = devices
        self.duration = duration
        self.profilesDirectory = profilesDirectory
        self.ratePerDevice = ratePerDevice
        ledgerKind = ledger
    }

    /// Runs until `duration` passes or the task is cancelled (Ctrl-C). Returns a summary.
    public func run(output: @escaping @Sendable (String) -> Void) async throws -> DemoSummary {
        var logger = Logger(label: "wardgate.demo")
        logger.logLevel = .warning
        let workDirectory = NSTemporaryDirectory() + "wardgate-demo-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }

        let broker = try PrivateBroker.start(directory: workDirectory + "/broker")
        defer { broker.stop() }
        output("private mosquitto on 127.0.0.1:\(broker.port), state in \(workDirectory)")

        let simulated = SimulatedWard.devices(count: devices)
        let cuffSystemId = SystemId(0x0022_0922_5808_03CC)
        let (gateway, ledger) = try await startGateway(
            workDirectory: workDirectory, brokerPort: broker.port, enrolling: simulated.map(\.id) + [PHDDeviceIdentifier.value(for: cuffSystemId)],
            logger: logger, output: output)
        defer { ledger.stop() }

        let ward = try SimulatedWard(devices: simulated, brokerPort: broker.port, logger: logger)
        defer { ward.stop() }
        _ = await ward.waitUntilConnected(timeout: .seconds(10))
        output("\(devices) simulated devices publishing \(ratePerDevice) payload/s each for \(Int(duration)) s; Ctrl-C stops early")

        // An IEEE 11073-20601 blood-pressure cuff: associates with the gateway (the manager) over
        // MQTT, then sends a confirmed scan report every few rounds.
        let cuff = try MQTTPersonalHealthAgent(specialization: .bloodPressure, systemId: cuffSystemId, brokerPort: broker.port, logger: logger)
        defer { cuff.stop() }
        if try await cuff.associate(timeout: .seconds(10)) {
            output("11073 blood-pressure cuff \(cuff.deviceId) associated with the gateway (standard configuration 0x02BC)")
        } else {
            output("11073 blood-pressure cuff did not associate; continuing without it")
        }

        let started = Date()
        let publisher = publish(ward: ward, cuff: cuff)
        let reporter = report(gateway: gateway, ledger: ledger, since: started, output: output)
        let published: Int
        do {
            published = try await withTaskCancellationHandler {
                try await publisher.value
            } onCancel: {
                publisher.cancel()
            }
        } catch {
            published = 0
        }
        _ = await ward.waitForPublishes(timeout: .seconds(10))
        if cuff.state == .operating { _ = try? await cuff.release(timeout: .seconds(5)) }
        try? await Task.sleep(for: .milliseconds(500))
        reporter.cancel()
        try await ledger.setDown(false)
        return try await finish(gateway: gateway, ledger: ledger, published: published, since: started)
    }

    /// A temporary ward CA with the devices enrolled, and a signing, logging gateway anchoring
    /// in a ledger the demo can cut off: the embedded one, or the Fabric peer double.
    private func startGateway(
        workDirectory: String, brokerPort: Int, enrolling deviceIds: [String], logger: Logger, output: @Sendable (String) -> Void
    ) async throws -> (Gateway, any ToolLedger) {
        let keystore = workDirectory + "/keys"
        try DemoRunner.enroll(deviceIds: deviceIds, caDirectory: workDirectory + "/ca", keystore: keystore)
        output("temporary ward CA in \(workDirectory)/ca; \(devices) devices enrolled; \(DemoRunner.unenrolledDevice) is not (its readings are quarantined)")

        var config = GatewayConfig(
            gatewayId: "demo-ward", stateDirectory: workDirectory + "/state",
            mqtt: MQTTSettings(port: brokerPort, clientId: "wardgate-demo"), profilesDirectory: profilesDirectory,
            identity: .init(keystore: keystore),
            log: .init(origin: "wardgate/demo.example/demo-ward",
                       gatewayCertificate: Keystore(directory: keystore).certificatePath(kind: .gateway, id: "demo-ward"),
                       gatewayKey: Keystore(directory: keystore).keyPath(kind: .gateway, id: "demo-ward")))
        let ledger = try makeToolLedger(ledgerKind, config: &config, logger: logger)
        let gateway = try Gateway(config: config, logger: logger, components: GatewayComponents(ledger: ledger.override))
        gateway.start()
        output("\(ledger.description); batches of up to \(config.batch.maxLeaves) leaves or \(config.batch.maxAge)")
        guard await gateway.waitUntilReady(timeout: .seconds(60)) else {
            await gateway.stop()
            ledger.stop()
            throw SimulationError.broker("the gateway could not subscribe on the private broker")
        }
        return (gateway, ledger)
    }

    /// The ward's rounds, with a faulty wearable, an unenrolled visitor and the cuff's reports
    /// mixed in; the task's value is how many payloads the ward published.
    private func publish(ward: SimulatedWard, cuff: MQTTPersonalHealthAgent) -> Task<Int, any Error> {
        let rounds = max(1, Int(duration * ratePerDevice))
        let faultyTopic = "wards/demo-ward/devices/bed-99-faulty/vitals"
        var visitor = SimulatedDevice(id: DemoRunner.unenrolledDevice, kind: .wearableJSON, seed: 4242)
        let visitorTopic = visitor.topic
        let visitorPayloads = (0..<rounds).map { visitor.nextPayload(at: Date().addingTimeInterval(Double($0))) }
        return Task { [ratePerDevice] in
            try await ward.run(rounds: rounds, roundsPerSecond: ratePerDevice) { round, _, _ in
                // One faulty wearable: every fifth round it sends a truncated payload, which is
                // dead-lettered while every other device keeps flowing.
                if round % 5 == 4 { try? ward.publish(topic: faultyTopic, payload: Array("{\"ts\": 17637".utf8)) }
                // A device nobody enrolled: its readings are kept, unsigned, in quarantine.
                if round % 5 == 2 { try? ward.publish(topic: visitorTopic, payload: visitorPayloads[round]) }
                if round % 3 == 0, cuff.state == .operating { _ = try? cuff.sendMeasurement() }
            }
        }
    }

    /// The live view, once a second; in runs of 10 s or more, a ledger outage from 40 % to 60 %
    /// of the time (simulated for the embedded ledger; the Fabric double is killed, then restarted).
    private func report(gateway: Gateway, ledger: any ToolLedger, since started: Date, output: @escaping @Sendable (String) -> Void) -> Task<Void, Never> {
        let outage = duration >= 10 ? (start: duration * 0.4, end: duration * 0.6) : nil
        let fabric = ledgerKind == .fabric
        return Task {
            var previous = 0.0
            var isDown = false
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let elapsed = Date().timeIntervalSince(started)
                if let outage {
                    let down = elapsed >= outage.start && elapsed < outage.end
                    if down != isDown {
                        isDown = down
                        do { try await ledger.setDown(down) } catch { output("--- the ledger did not come back: \(error)") }
                        output(down ? "--- ledger outage begins (\(fabric ? "the Fabric peer double is killed" : "simulated")): readings are still acknowledged, journaled, signed and logged; batches wait in the outbox"
                                    : "--- ledger is back: the outbox drains\(fabric ? ", every pending batch in one anchor" : " in order")")
                    }
                }
                let snapshot = gateway.metrics.snapshot()
                let stored = snapshot["wardgate_observations_stored_total"]
                output(DemoView.render(snapshot: snapshot, perSecond: stored - previous, latest: gateway.latestValues, elapsed: elapsed))
                previous = stored
            }
        }
    }

    /// Processes and anchors what is left (waiting up to 10 s for the forwarder, 30 s with the Fabric double), stops the
    /// gateway, and sums up.
    private func finish(gateway: Gateway, ledger: any ToolLedger, published: Int, since started: Date) async throws -> DemoSummary {
        try? gateway.processor.drain()
        _ = try? gateway.batcher.cutDueBatches(force: true)
        // The Fabric double's commits take their time, and a restarted peer is reconnected within seconds.
        let anchorDeadline = ContinuousClock.now + .seconds(ledgerKind == .fabric ? 30 : 10)
        while ContinuousClock.now < anchorDeadline, let status = try? gateway.outboxStatus(), status.pendingBatches > 0 {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let outbox = try gateway.outboxStatus()
        let anchors = try ledger.summary()
        let stats = try gateway.journal.statistics()
        let snapshot = gateway.metrics.snapshot()
        await gateway.stop()
        return DemoSummary(
            payloadsPublished: published, messagesJournaled: stats.inboxRecords, observations: stats.observations,
            signed: stats.signed, quarantined: stats.quarantined,
            deadLetters: stats.deadLetters, duplicates: Int(snapshot["wardgate_duplicates_dropped_total"]),
            logged: gateway.logTreeSize, anchored: outbox.anchoredSize, batchesWaiting: outbox.pendingBatches,
            ledgerAnchors: anchors.anchors, ledgerIntact: anchors.intact, ledgerAnchorsName: anchors.what,
            elapsedSeconds: Date().timeIntervalSince(started))
    }
}

extension DemoRunner {
    static let unenrolledDevice = "visitor-unenrolled"

    /// A temporary ward CA with every simulated device enrolled (keys generated in the keystore).
    static func enroll(deviceIds: [String], caDirectory: String, keystore: String) throws {
        let ca = try CertificateAuthority.create(directory: caDirectory, name: "wardgate demo CA", validityDays: 2)
        let store = Keystore(directory: keystore)
        for id in deviceIds {
            _ = try Enrollment.enroll(kind: .device, id: id, ca: ca, keystore: store, validityDays: 2)
        }
        _ = try Enrollment.enroll(kind: .gateway, id: "demo-ward", ca: ca, keystore: store, validityDays: 2)
    }
}

public struct DemoSummary: Sendable {
    public let payloadsPublished: Int
    public let messagesJournaled: Int
    public let observations: Int
    public let signed: Int
    public let quarantined: Int
    public let deadLetters: Int
    public let duplicates: Int
    public let logged: UInt64
    public let anchored: UInt64
    public let batchesWaiting: Int
    /// Blocks of the embedded ledger, or anchor transactions in the Fabric channel.
    public let ledgerAnchors: UInt64
    public let ledgerIntact: Bool
    public let ledgerAnchorsName: String
    public let elapsedSeconds: Double

    public var text: String {
        """
        demo finished after \(String(format: "%.1f", elapsedSeconds)) s
          device payloads published:  \(payloadsPublished)
          messages journaled:         \(messagesJournaled) (including the faulty device's)
          FHIR Observations stored:   \(observations)
            signed by their device:   \(signed)
            quarantined (unsigned):   \(quarantined)
          dead letters:               \(deadLetters)
          duplicates dropped:         \(duplicates)
          log leaves:                 \(logged)
            anchored in the ledger:   \(anchored)\(batchesWaiting > 0 ? " (\(batchesWaiting) batches still waiting in the outbox)" : "")
          \((ledgerAnchorsName + ":").padding(toLength: 28, withPad: " ", startingAt: 0))\(ledgerAnchors), chain \(ledgerIntact ? "intact" : "BROKEN")
        """
    }
}

enum DemoView {
    static func render(snapshot: MetricsSnapshot, perSecond: Double, latest: [String: [String: String]], elapsed: Double) -> String {
        var lines = [String(
            format: "[%5.1fs] %6.0f readings/s | messages received %.0f | readings signed %.0f → anchored %.0f | backlog %.0f leaves in %.0f batches | quarantined %.0f | dead letters %.0f",
            elapsed, perSecond, snapshot["wardgate_messages_received_total"],
            snapshot["wardgate_observations_signed_total"], snapshot["wardgate_ledger_anchored_tree_size"],
            snapshot["wardgate_ledger_backlog_leaves"], snapshot["wardgate_ledger_backlog_batches"],
            snapshot.total("wardgate_readings_quarantined_total"),
            snapshot.total("wardgate_dead_letters_total")) + (snapshot["wardgate_ledger_available"] > 0 ? "" : " | LEDGER DOWN")]
        for device in latest.keys.sorted().prefix(12) {
            let values = latest[device] ?? [:]
            let shown = ["Heart rate", "Oxygen saturation in Arterial blood by Pulse oximetry", "Respiratory rate", "Body temperature", "Blood pressure panel"]
            let labels = ["HR", "SpO2", "RR", "Temp", "BP"]
            let fields = zip(shown, labels).compactMap { name, label in values[name].map { "\(label) \($0)" } }
            lines.append("    \(device.padding(toLength: 16, withPad: " ", startingAt: 0)) " + fields.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
