/// Device ids and gateway ids never overlap.
///
/// The broker knows a client only by its certificate's CN (`use_identity_as_username`), and the
/// shipped ACL gives the gateway's CN read access to every device topic. A device certificate
/// whose CN were a gateway's id would get those rights. So:
/// - the CA refuses to issue a certificate of one kind for an id that its index (`index.json`,
///   every certificate it ever issued, revoked or not) holds for the other kind;
/// - enrollment also refuses an id the keystore holds for the other kind (`devices/<id>/`,
///   `gateways/<id>/`), which covers a CA index restored from an older backup;
/// - the registry refuses to sign for a device whose id a gateway in the keystore also has
///   (certificates from before this rule, or from another PKI).
/// Ids are compared without regard to ASCII case, so that `Ward-7B` cannot pass for `ward-7b` to
/// a person reading a log or an ACL either.
public enum IdentityNamespaces {
    /// The identity of the other kind that `name` collides with, among `otherKindIDs`.
    public static func collision(of name: IdentityName, among otherKindIDs: [String]) -> IdentityName? {
        let wanted = name.id.lowercased()
        return otherKindIDs.first { $0.lowercased() == wanted }.map { IdentityName(kind: name.kind.other, id: $0) }
    }
}

extension IdentityKind {
    /// Devices for gateways, gateways for devices.
    public var other: IdentityKind { self == .device ? .gateway : .device }
}
