import Foundation
@testable import Gateway
import MQTTIngest
import Simulation
import Testing

/// A subscribed profile that hears nothing while some enrolled device is unheard (issue #18,
/// item 9: the shipped ACL once blocked `phd/` silently, and mosquitto grants the subscription
/// anyway) is a readiness warning, never a failure; once every enrolled device is heard on some
/// profile, the silent ones are not its devices' and are not warned.
@Suite("Readiness: a silent profile is a warning", .serialized)
struct SilentProfileTests {
    @Test("past the grace period the profiles that received nothing are /readyz warnings while an enrolled device is unheard, and none once every device is heard")
    func silentProfilesWarn() async throws {
        let ward = try LedgerWard("silent-profile", devices: 2)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        var config = ward.config(brokerPort: broker.port, clientId: "wardgate-silent")
        config.silentProfileGrace = .zero
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        let service = try GatewayService(gateway: gateway, notifier: SystemdNotifier(socketPath: nil),
                                         options: .init(watchdog: nil, readinessProbeTimeout: .seconds(5)), logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        var readiness = await service.readiness()
        #expect(readiness.isReady, "\(readiness.reasons)")
        #expect(readiness.warnings.count == 3, "\(readiness.warnings)")
        #expect(readiness.warnings.contains { $0.hasPrefix("profile ieee11073-20601 has received nothing on phd/+/agent") && $0.contains("2 of 2 enrolled device(s)") },
                "\(readiness.warnings)")

        // (b) one enrolled device never publishes: the silent profiles are still warned.
        let devices = SimulatedWard.devices(count: 2, seed: ward.seed)
        try await publishOnce(devices[0], brokerPort: broker.port)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { gateway.activity.received(profileId: "generic-wearable-json") == 1 })
        readiness = await service.readiness()
        #expect(readiness.isReady, "\(readiness.reasons)")
        #expect(readiness.warnings.count == 2, "\(readiness.warnings)")
        #expect(readiness.warnings.allSatisfy { $0.contains("1 of 2 enrolled device(s)") }, "\(readiness.warnings)")
        #expect(!readiness.warnings.contains { $0.hasPrefix("profile generic-wearable-json ") }, "\(readiness.warnings)")

        // (a) every enrolled device heard on the JSON profile: the silent 11073 profile is not theirs.
        try await publishOnce(devices[1], brokerPort: broker.port)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { gateway.activity.received(profileId: "generic-wearable-json") == 2 })
        readiness = await service.readiness()
        #expect(readiness.isReady, "\(readiness.reasons)")
        #expect(readiness.warnings.isEmpty, "\(readiness.warnings)")
        await gateway.stop()
    }

    private func publishOnce(_ device: SimulatedDevice, brokerPort: Int) async throws {
        let sender = try SimulatedWard(devices: [device], brokerPort: brokerPort, logger: TestSupport.quietLogger)
        defer { sender.stop() }
        #expect(await sender.waitUntilConnected(timeout: .seconds(60)))
        _ = try await sender.run(rounds: 1, roundsPerSecond: 10)
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
    }
}
