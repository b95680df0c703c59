import Foundation

extension GatewayConfig {
    /// What `wardgate config init` prints: the embedded ledger in force.
    public static let defaultYAML = defaultYAML(ledger: embeddedLedgerYAML)

    /// What `wardgate config init --ledger fabric` prints: a Fabric ledger in force, with TLS on.
    public static let defaultFabricYAML = defaultYAML(ledger: fabricLedgerYAML)

    private static func defaultYAML(ledger: String) -> String { sectionsBeforeLedger + ledger + sectionsAfterLedger }

    private static let sectionsBeforeLedger = """
        # wardgate configuration. Relative paths are relative to this file's directory.
        # Unknown keys are errors, so a typo never silently falls back to a default.

        gateway:
          id: ward-7b                   # names this gateway in logs and (later) its log origin
          stateDirectory: ./state       # the journal lives here; give it its own disk quota

        mqtt:
          host: 127.0.0.1
          port: 1883
          clientId: wardgate-ward-7b    # must be stable: the broker keeps our session under it
          protocol: 5                   # 5 or 3.1.1
          keepAlive: 30s
          sessionExpiry: 7d             # MQTT 5: how long the broker queues for us while we are down
          # username: wardgate
          # passwordFile: ./secrets/mqtt-password
          # tls:                        # omit for plain TCP on loopback
          #   caFile: ./tls/ca.pem      # verifies the broker
          #   certFile: ./tls/gateway.pem   # mTLS client certificate (with keyFile)
          #   keyFile: ./tls/gateway.key
          # reconnect: {initial: 250ms, maximum: 30s}   # exponential backoff with jitter

        profiles:
          directory: ./DeviceProfiles   # every *.yml here is loaded; an invalid one stops startup
          # assignments: ./assignments.yml   # device id -> patient and bed; reloaded when it changes

        journal:
          durability: process           # process: survives kill -9 (WAL, synchronous=NORMAL)
                                        # power: survives power loss (synchronous=FULL, fsync per commit)
          maxBytes: 2GiB                # hard quota: at the limit, acknowledgements stop (the broker holds messages)
          retention: 30d                # anchored readings older than this are pruned ("forever" keeps them)
          deadLetterRetention: 90d      # dead letters (and the payloads kept only for them) older than this are pruned ("forever" keeps them)
          integrityCheck: 1h            # PRAGMA quick_check this often (and at every start); damage stops acknowledgements
          maxClockSkew: 1d              # a clock this far past the journal's newest time pauses pruning (alarm)

        identity:                       # per-device signing keys (see docs/identity.md)
          keystore: ./keys              # wardgate device enroll --keystore ./keys ...
          caCertificate: ./ca/ca.pem    # the ward CA that issued the device certificates
          # crl: ./ca/crl.pem           # revocations; reloaded when it changes and on SIGHUP

        transparencyLog:                # the Merkle log's signed checkpoints (see docs/proof-bundle.md)
          origin: wardgate/hospital.example/ward-7b
          gatewayCertificate: ./keys/gateways/ward-7b/cert.pem   # wardgate gateway enroll --id ward-7b ...
          gatewayKey: ./keys/gateways/ward-7b/key.pem

        batch:                          # a checkpoint is signed and a batch cut for the ledger when either is reached
          maxLeaves: 1000
          maxAge: 1s


        """

    private static let embeddedLedgerYAML = """
        ledger:                         # where batches are anchored (see docs/ledger.md)
          kind: embedded                # a signed, hash-chained block file on this gateway
          path: ./state/ledger.sqlite
          # key: ./keys/ledger.key      # default: ledger.key beside path, generated (0600) on first start
          # For an anchor out of this gateway's reach, a Hyperledger Fabric channel instead
          # (wardgate config init --ledger fabric prints it in force; docs/ledger-fabric.md):
          # kind: fabric
          # fabric:
          #   endpoint: peer0.hospital.example:7051
          #   mspId: WardOrgMSP
          #   certificate: ./fabric/client.pem
          #   key: ./fabric/client.key
          #   channel: wards
          #   chaincode: wardgate-anchor
          #   tls: {caFile: ./fabric/tls-ca.pem, certFile: ./fabric/tls-client.pem, keyFile: ./fabric/tls-client.key}
          retry: {initial: 250ms, maximum: 30s}   # full-jitter backoff while the ledger is unreachable
          healthProbe: 1s               # while backing off, resume as soon as the ledger answers


        """

    private static let fabricLedgerYAML = """
        ledger:                         # where batches are anchored (see docs/ledger-fabric.md)
          kind: fabric                  # a Hyperledger Fabric v2.5 channel, through a peer's Gateway service
          fabric:
            endpoint: peer0.hospital.example:7051   # a peer running the Gateway service (Fabric >= 2.4)
            mspId: WardOrgMSP           # the gateway's organization
            certificate: ./fabric/client.pem        # the gateway's Fabric identity, from the organization's CA
            key: ./fabric/client.key    # its P-256 key (mode 0600)
            channel: wards
            chaincode: wardgate-anchor  # the anchor contract (Sources/Ledger/Fabric/chaincode)
            tls:                        # omit only for a test peer on loopback (plaintext)
              caFile: ./fabric/tls-ca.pem           # verifies the peer
              certFile: ./fabric/tls-client.pem     # mutual TLS client certificate (with keyFile)
              keyFile: ./fabric/tls-client.key
            # endorsingOrganizations: [WardOrgMSP, RegulatorMSP]   # default: the gateway follows the channel's policy
            # timeouts: {call: 30s, commitStatusCall: 10s, commit: 2m}
          retry: {initial: 250ms, maximum: 30s}   # full-jitter backoff while the peer is unreachable
          healthProbe: 1s               # while backing off, resume as soon as the peer answers


        """

    private static let sectionsAfterLedger = """
        logging:
          level: info                   # trace, debug, info, notice, warning, error, critical
          format: auto                  # auto (journald under systemd, else text), journald, text

        # http:                         # the staff HTTP API (docs/deployment.md); omit to leave it off
        #   listen: 127.0.0.1:8080      # a non-loopback address needs bearerTokenFile or tls.clientCAFile
        #   bearerTokenFile: ./secrets/api-token
        #   tls: {certFile: ./tls/api.pem, keyFile: ./tls/api.key, clientCAFile: ./tls/staff-ca.pem}
        #   rateLimit: {requestsPerSecond: 20, burst: 40}   # per client address; 429 beyond
        """
}
