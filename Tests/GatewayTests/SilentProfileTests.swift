import Foundation
@testable import Gateway
import MQTTIngest
import Simulation
import Testing

/// A subscribed profile that hears nothing while devices are enrolled (issue #18, item 9: the
/// shipped ACL once blocked `phd/` silently, and mosquitto grants the subscription anyway) is a
/// readiness warning, never a failure.
@Suite("Readiness: a silent profile is a warning", .serialized)
struct SilentProfileTests {
    @Test("past the grace period every profile that received nothing is a /readyz warning while the gateway stays ready; one that hears a message is not")
    func silentProfilesWarn() async throws {
        let ward = try LedgerWard("silent-profile", devices: 1)
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
        #expect(readiness.warnings.contains { $0.hasPrefix("profile ieee11073-20601 has received nothing on phd/+/agent") && $0.contains("1 device(s) are enrolled") },
                "\(readiness.warnings)")

        let device = try #require(SimulatedWard.devices(count: 1, seed: ward.seed).first)
        let sender = try SimulatedWard(devices: [device], brokerPort: broker.port, logger: TestSupport.quietLogger)
        defer { sender.stop() }
        #expect(await sender.waitUntilConnected(timeout: .seconds(10)))
        _ = try await sender.run(rounds: 1, roundsPerSecond: 10)
        #expect(await sender.waitForPublishes(timeout: .seconds(10)))
        #expect(await TestSupport.eventually(timeout: .seconds(20)) { gateway.activity.received(profileId: "generic-wearable-json") == 1 })
        readiness = await service.readiness()
        #expect(readiness.isReady, "\(readiness.reasons)")
        #expect(readiness.warnings.count == 2, "\(readiness.warnings)")
        #expect(!readiness.warnings.contains { $0.hasPrefix("profile generic-wearable-json ") }, "\(readiness.warnings)")
        await gateway.stop()
    }
}
