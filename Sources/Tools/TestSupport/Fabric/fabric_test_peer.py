#!/usr/bin/env python3
"""TEST DOUBLE of a Hyperledger Fabric v2.5 peer's Gateway service (gateway.Gateway), for
wardgate's tests. It is not Fabric: no Fabric peer can run on these machines (Fabric ships as Go
binaries and container images), so this double is built from the official protos (PyPI
hyperledger-fabric-protos, grpcio) and makes the checks a peer makes of a client:

- core/endorser/msgvalidation.go: header type ENDORSER_TRANSACTION, epoch 0, nonce and creator
  present, tx_id = hex(SHA-256(nonce || creator)) recomputed, the creator's MSP id known and its
  certificate chained to that org's CA, an ECDSA P-256 / SHA-256 signature over the exact
  proposal bytes, DER, low S (bccsp/sw/ecdsa.go refuses high S);
- Submit: a signed envelope whose payload is byte-identical to the one prepared at Endorse,
  signed (low S) by the same creator; CommitStatus: a signed request from a member identity;
- the gateway's error shapes (internal/pkg/gateway/api.go): a chaincode error is ABORTED with a
  gateway.ErrorDetail "chaincode response 500, <message>"; access denied likewise in a detail;
- MVCC validation at commit: a transaction whose reads changed since endorsement is
  invalidated with MVCC_READ_CONFLICT.

It runs the wardgate-anchor contract (docs/ledger-fabric.md) with the same rules as the Go
chaincode in Sources/Ledger/Fabric/chaincode, signs endorsements with a peer key from a separate
peer-org CA, answers qscc's GetChainInfo, GetTransactionByID and GetBlockByTxID, and injects
faults on request (--fault, --commit-delay-ms). World state and blocks persist in --state, so a
test can SIGKILL and restart it as a real outage.

Prints "READY <port>" on stdout once it serves.
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import time
from concurrent import futures

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf import any_pb2
from google.rpc import status_pb2

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
HEADER_ENDORSER_TRANSACTION = common_pb2.HeaderType.ENDORSER_TRANSACTION
VALID = transaction_pb2.TxValidationCode.VALID
MVCC_READ_CONFLICT = transaction_pb2.TxValidationCode.MVCC_READ_CONFLICT


class Refusal(Exception):
    """A chaincode error: the contract refuses the call (status 500)."""


class AccessDenied(Exception):
    """The peer refuses the client (msgvalidation, ACL)."""


# ---------------------------------------------------------------------------------------------
# Cryptography as a Fabric peer does it


def sign_low_s(key, message):
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    if s > P256_ORDER // 2:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


def verify_low_s(public_key, signature, message):
    """bccsp/sw/ecdsa.go: a DER signature with s <= n/2 over SHA-256 of the exact bytes."""
    try:
        _, s = decode_dss_signature(signature)
    except Exception as error:
        raise AccessDenied(f"signature is not DER: {error}")
    if s > P256_ORDER // 2:
        raise AccessDenied("invalid S. Must be smaller than half the order [high-S signature]")
    try:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AccessDenied("the signature is invalid")


class MSP:
    """Client organizations: MSP id -> CA certificate."""

    def __init__(self, cas):
        self.cas = cas

    def deserialize(self, creator_bytes):
        """Returns (mspid, certificate) of a valid member identity, or raises AccessDenied."""
        identity = identities_pb2.SerializedIdentity()
        try:
            identity.ParseFromString(creator_bytes)
            certificate = x509.load_pem_x509_certificate(identity.id_bytes)
        except Exception:
            raise AccessDenied("creator org unknown, creator is malformed")
        ca = self.cas.get(identity.mspid)
        if ca is None:
            raise AccessDenied(f"creator org unknown: MSP {identity.mspid} is not a member of this channel")
        try:
            certificate.verify_directly_issued_by(ca)
        except Exception:
            raise AccessDenied(f"creator org [{identity.mspid}]: the certificate is not issued by the org's CA")
        now = time.time()
        if not (certificate.not_valid_before_utc.timestamp() <= now <= certificate.not_valid_after_utc.timestamp()):
            raise AccessDenied(f"creator org [{identity.mspid}]: the certificate is expired or not yet valid")
        return identity.mspid, certificate


# ---------------------------------------------------------------------------------------------
# The wardgate-anchor contract (docs/ledger-fabric.md), as the Go chaincode implements it


def composite_key(object_type, attributes):
    return "\x00" + "".join(part + "\x00" for part in [object_type] + attributes)


def anchor_key(origin, tree_size):
    return composite_key("wardgate.anchor", [origin, f"{tree_size:020d}"])


def head_key(origin):
    return composite_key("wardgate.head", [origin])


def gateway_key(origin):
    return composite_key("wardgate.gateway", [origin])


def leaf_hash_pair(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not path and first_hash == second_hash
    if first == 0 or first > second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = leaf_hash_pair(c, fr)
            sr = leaf_hash_pair(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = leaf_hash_pair(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def parse_checkpoint_note(note):
    """A C2SP signed note whose text is a tlog checkpoint: (text, origin, size, root, signatures)."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Refusal("invalid: the checkpoint note is not a signed note")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = text.split("\n")
    if len(lines) < 4:
        raise Refusal("invalid: the note is not a checkpoint")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise Refusal("invalid: the checkpoint size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except Exception:
        raise Refusal("invalid: the checkpoint root is not base64")
    if len(root) != 32:
        raise Refusal("invalid: the checkpoint root is not 32 bytes")
    signatures = []
    for line in signature_block.split("\n")[:-1]:
        if not line.startswith("\u2014 "):
            raise Refusal("invalid: a signature line does not start with an em dash")
        name, _, encoded = line[2:].rpartition(" ")
        raw = base64.b64decode(encoded)
        signatures.append((name, raw[:4], raw[4:]))
    return text, origin, int(size_text), root, signatures


def note_key_id(certificate):
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:4]


class Stub:
    """What chaincode sees: state reads and writes (recorded for the read-write set) and the creator."""

    def __init__(self, state, tx_id, creator_msp, creator_certificate):
        self.state, self.tx_id = state, tx_id
        self.creator_msp, self.creator_certificate = creator_msp, creator_certificate
        self.reads, self.writes = {}, {}

    def get(self, key):
        if key in self.writes:
            return self.writes[key]
        entry = self.state.get(key)
        self.reads[key] = entry["version"] if entry else None
        return entry["value"] if entry else None

    def put(self, key, value):
        self.writes[key] = value


def anchor_record(origin, tree_size, root, note, previous, tx_id):
    return json.dumps({"origin": origin, "treeSize": tree_size, "rootHash": root.hex(), "checkpointNote": note,
                       "previousTreeSize": previous, "txId": tx_id}, separators=(",", ":"), ensure_ascii=False).encode()


def contract_anchor(stub, origin, tree_size_text, note, proof_text):
    if not tree_size_text.isdigit() or int(tree_size_text) == 0:
        raise Refusal("invalid: treeSize must be a positive decimal number")
    tree_size = int(tree_size_text)
    text, note_origin, note_size, root, signatures = parse_checkpoint_note(note)
    if note_origin != origin or note_size != tree_size:
        raise Refusal(f"invalid: the checkpoint is {note_origin}@{note_size}, the call names {origin}@{tree_size}")
    registration = stub.get(gateway_key(origin))
    if registration is None:
        raise Refusal(f"untrusted: origin {origin} has no registered gateway certificate")
    registration = json.loads(registration)
    if registration["mspId"] != stub.creator_msp:
        raise Refusal(f"untrusted: origin {origin} belongs to {registration['mspId']}, the caller is {stub.creator_msp}")
    existing = stub.get(anchor_key(origin, tree_size))
    if existing is not None and json.loads(existing)["checkpointNote"] == note:
        return existing  # the same checkpoint again: idempotent, no write
    certificate = x509.load_pem_x509_certificate(registration["certificate"].encode())
    key_id = note_key_id(certificate)
    verified = False
    for name, signature_key_id, signature in signatures:
        if name == origin and signature_key_id == key_id:
            try:
                certificate.public_key().verify(signature, text.encode(), ec.ECDSA(hashes.SHA256()))
                verified = True
            except InvalidSignature:
                pass
    if not verified:
        raise Refusal(f"untrusted: the checkpoint is not signed by the gateway certificate registered for {origin} (key id {key_id.hex()})")
    if existing is not None:
        if bytes.fromhex(json.loads(existing)["rootHash"]) == root:
            return existing
        raise Refusal(f"fork: size {tree_size} is already anchored with another root hash")
    head = stub.get(head_key(origin))
    head = json.loads(head) if head else {"treeSize": 0, "rootHash": ""}
    if head["treeSize"] > tree_size:
        raise Refusal(f"fork: size {tree_size} is smaller than the last anchored size {head['treeSize']}")
    try:
        proof = json.loads(proof_text)
        from_size, to_size = int(proof["fromSize"]), int(proof["toSize"])
        path = [bytes.fromhex(h) for h in proof["hashes"]]
    except Exception:
        raise Refusal("invalid: the consistency proof is not {fromSize, toSize, hashes}")
    if from_size != head["treeSize"] or to_size != tree_size:
        raise Refusal(f"invalid: the consistency proof runs {from_size}->{to_size}; the ledger needs {head['treeSize']}->{tree_size}")
    if from_size == 0:
        if path:
            raise Refusal("invalid: a proof from the empty tree has no hashes")
    elif not verify_consistency(from_size, tree_size, bytes.fromhex(head["rootHash"]), root, path):
        raise Refusal(f"fork: the checkpoint is not consistent with the anchored checkpoint of size {from_size}")
    record = anchor_record(origin, tree_size, root, note, head["treeSize"], stub.tx_id)
    stub.put(anchor_key(origin, tree_size), record)
    stub.put(head_key(origin), json.dumps({"origin": origin, "treeSize": tree_size, "rootHash": root.hex()}, separators=(",", ":"), ensure_ascii=False).encode())
    return record


def contract_register_gateway(stub, origin, certificate_pem):
    organizational_units = [a.value for a in stub.creator_certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if "admin" not in organizational_units:
        raise Refusal("untrusted: only an admin of the origin's organization (OU admin) may register a gateway")
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except Exception:
        raise Refusal("invalid: the gateway certificate is not PEM")
    if not isinstance(certificate.public_key(), ec.EllipticCurvePublicKey) or certificate.public_key().curve.name != "secp256r1":
        raise Refusal("invalid: the gateway certificate's key is not P-256")
    existing = stub.get(gateway_key(origin))
    if existing is not None and json.loads(existing)["mspId"] != stub.creator_msp:
        raise Refusal(f"untrusted: origin {origin} is registered to {json.loads(existing)['mspId']}")
    record = json.dumps({"origin": origin, "mspId": stub.creator_msp, "certificate": certificate_pem,
                         "keyId": note_key_id(certificate).hex()}, separators=(",", ":"), ensure_ascii=False).encode()
    stub.put(gateway_key(origin), record)
    return record


def run_contract(stub, args):
    function, arguments = args[0].decode(), [a.decode() for a in args[1:]]
    signatures = {"Anchor": (contract_anchor, 4), "RegisterGateway": (contract_register_gateway, 2)}
    if function in signatures:
        handler, count = signatures[function]
        if len(arguments) != count:
            raise Refusal(f"invalid: {function} takes {count} arguments, got {len(arguments)}")
        return handler(stub, *arguments)
    if function == "GetAnchor" and len(arguments) == 2 and arguments[1].isdigit():
        return stub.get(anchor_key(arguments[0], int(arguments[1]))) or b""
    if function == "GetHead" and len(arguments) == 1:
        return stub.get(head_key(arguments[0])) or b""
    if function == "GetGateway" and len(arguments) == 1:
        return stub.get(gateway_key(arguments[0])) or b""
    raise Refusal(f"invalid: unknown function {function} with {len(arguments)} arguments")


# ---------------------------------------------------------------------------------------------
# The ledger: world state with versions, blocks, a committer with a delay


class Ledger:
    def __init__(self, path, channel):
        self.path, self.channel = path, channel
        self.lock = threading.Condition()
        self.state, self.transactions, self.height = {}, {}, 1  # block 0 is the genesis block
        self.block_hashes = [hashlib.sha256(b"genesis " + channel.encode()).digest()]
        if path and os.path.exists(path):
            saved = json.load(open(path))
            self.height, self.block_hashes = saved["height"], [bytes.fromhex(h) for h in saved["blockHashes"]]
            self.state = {bytes.fromhex(k).decode(): {"value": base64.b64decode(v["value"]), "version": tuple(v["version"])}
                          for k, v in saved["state"].items()}
            self.transactions = {t: {"envelope": base64.b64decode(v["envelope"]), "code": v["code"], "block": v["block"]}
                                 for t, v in saved["transactions"].items()}

    def save(self):
        if not self.path:
            return
        saved = {"height": self.height, "blockHashes": [h.hex() for h in self.block_hashes],
                 "state": {k.encode().hex(): {"value": base64.b64encode(v["value"]).decode(), "version": list(v["version"])}
                           for k, v in self.state.items()},
                 "transactions": {t: {"envelope": base64.b64encode(v["envelope"]).decode(), "code": v["code"], "block": v["block"]}
                                  for t, v in self.transactions.items()}}
        # No fsync: the double stands for a peer process that tests kill (SIGKILL), not a machine
        # that loses power, and the page cache survives a killed process. An fsync here cost 17 ms
        # (p50, up to 40 ms) per commit on the shared machine, inside every anchor's commit time.
        temporary = self.path + ".tmp"
        with open(temporary, "w") as file:
            json.dump(saved, file)
        os.replace(temporary, self.path)

    def commit(self, tx_id, envelope, reads, writes, force_code=None):
        """Validates (MVCC) and commits one transaction as one block. Call with the lock held."""
        block = self.height
        code = force_code
        if code is None:
            stale = [k for k, version in reads.items() if (self.state[k]["version"] if k in self.state else None) != version]
            code = MVCC_READ_CONFLICT if stale else VALID
        if code == VALID:
            for key, value in writes.items():
                self.state[key] = {"value": value, "version": (block, 0)}
        self.transactions[tx_id] = {"envelope": envelope, "code": code, "block": block}
        self.block_hashes.append(hashlib.sha256(self.block_hashes[-1] + envelope).digest())
        self.height += 1
        self.save()
        self.lock.notify_all()
        return code


# ---------------------------------------------------------------------------------------------
# The Gateway service


class Faults:
    """--fault METHOD=KIND:COUNT: the first COUNT calls of METHOD (or '*') fail with KIND."""

    def __init__(self, specs, deadline_sleep):
        self.remaining, self.deadline_sleep, self.lock = {}, deadline_sleep, threading.Lock()
        for spec in specs:
            method, _, rest = spec.partition("=")
            kind, _, count = rest.partition(":")
            self.remaining[(method, kind)] = int(count or "1")

    def take(self, method, kinds):
        with self.lock:
            for (fault_method, kind), count in self.remaining.items():
                if fault_method in (method, "*") and kind in kinds and count > 0:
                    self.remaining[(fault_method, kind)] = count - 1
                    return kind
        return None

    def apply(self, method, context):
        kind = self.take(method, ("unavailable", "deadline", "aborted"))
        if kind == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; no endorsers available (injected)")
        if kind == "aborted":
            context.abort(grpc.StatusCode.ABORTED, "failed to collect enough transaction endorsements (injected)")
        if kind == "deadline":
            time.sleep(self.deadline_sleep)


def abort_with_details(context, code, message, details):
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(code, message)


class GatewayDouble(gateway_pb2_grpc.GatewayServicer):
    def __init__(self, options, ledger, msp, peer_key, peer_identity):
        self.options, self.ledger, self.msp = options, ledger, msp
        self.peer_key, self.peer_identity = peer_key, peer_identity
        self.faults = Faults(options.fault or [], options.deadline_sleep)
        self.address = "127.0.0.1"
        self.pending = {}
        self.commit_queue = []
        threading.Thread(target=self.committer, daemon=True).start()

    def detail(self, message):
        return gateway_pb2.ErrorDetail(address=self.address, msp_id=self.options.peer_msp, message=message)

    def unpack(self, signed_proposal, context):
        """core/endorser/msgvalidation.go UnpackProposal and Validate."""
        try:
            proposal = proposal_pb2.Proposal.FromString(signed_proposal.proposal_bytes)
            header = common_pb2.Header.FromString(proposal.header)
            channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
            signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
            extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
            payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
            invocation = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input)
        except Exception as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"failed to unpack transaction proposal: {error}")
        if not extension.chaincode_id.name:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ChaincodeHeaderExtension.ChaincodeId.Name is empty")
        if channel_header.type != HEADER_ENDORSER_TRANSACTION:
            raise AccessDenied(f"invalid header type {channel_header.type}")
        if channel_header.epoch != 0:
            raise AccessDenied("epoch is non-zero")
        if not signature_header.nonce:
            raise AccessDenied("nonce is empty")
        if not signature_header.creator:
            raise AccessDenied("creator is empty")
        expected = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
        if channel_header.tx_id != expected:
            raise AccessDenied(f"incorrectly computed txid '{channel_header.tx_id}' -- expected '{expected}'")
        if not signed_proposal.signature:
            raise AccessDenied("empty signature bytes")
        if channel_header.channel_id != self.options.channel:
            raise AccessDenied(f"channel [{channel_header.channel_id}] is not joined by this peer")
        mspid, certificate = self.msp.deserialize(signature_header.creator)
        try:
            verify_low_s(certificate.public_key(), signed_proposal.signature, signed_proposal.proposal_bytes)
        except AccessDenied as error:
            raise AccessDenied(f"access denied: channel [{channel_header.channel_id}] creator org [{mspid}]: {error}")
        no_transient = proposal_pb2.ChaincodeProposalPayload(input=payload.input).SerializeToString()
        proposal_hash = hashlib.sha256(header.channel_header + header.signature_header + no_transient).digest()
        return {"header": header, "channel_header": channel_header, "signature_header": signature_header,
                "chaincode": extension.chaincode_id.name, "args": list(invocation.chaincode_spec.input.args),
                "payload_input": payload.input, "proposal_hash": proposal_hash, "mspid": mspid, "certificate": certificate}

    def simulate(self, unpacked):
        if unpacked["chaincode"] != self.options.chaincode:
            raise Refusal(f"make sure the chaincode {unpacked['chaincode']} has been successfully defined on channel {self.options.channel}")
        with self.ledger.lock:
            stub = Stub(self.ledger.state, unpacked["channel_header"].tx_id, unpacked["mspid"], unpacked["certificate"])
            result = run_contract(stub, unpacked["args"])
        return stub, result

    def endorse_response(self, unpacked, stub, result):
        kv = kv_rwset_pb2.KVRWSet(
            reads=[kv_rwset_pb2.KVRead(key=k, version=kv_rwset_pb2.Version(block_num=v[0], tx_num=v[1]) if v else None)
                   for k, v in sorted(stub.reads.items())],
            writes=[kv_rwset_pb2.KVWrite(key=k, value=v) for k, v in sorted(stub.writes.items())])
        results = rwset_pb2.TxReadWriteSet(data_model=rwset_pb2.TxReadWriteSet.KV, ns_rwset=[
            rwset_pb2.NsReadWriteSet(namespace=self.options.chaincode, rwset=kv.SerializeToString())]).SerializeToString()
        message = "anchored" if stub.writes else "already anchored"
        action = proposal_pb2.ChaincodeAction(results=results, response=proposal_response_pb2.Response(status=200, message=message, payload=result),
                                              chaincode_id=chaincode_pb2.ChaincodeID(name=self.options.chaincode, version="1.0"))
        response_payload = proposal_response_pb2.ProposalResponsePayload(proposal_hash=unpacked["proposal_hash"], extension=action.SerializeToString()).SerializeToString()
        endorsement = proposal_response_pb2.Endorsement(endorser=self.peer_identity, signature=sign_low_s(self.peer_key, response_payload + self.peer_identity))
        action_payload = transaction_pb2.ChaincodeActionPayload(
            chaincode_proposal_payload=proposal_pb2.ChaincodeProposalPayload(input=unpacked["payload_input"]).SerializeToString(),
            action=transaction_pb2.ChaincodeEndorsedAction(proposal_response_payload=response_payload, endorsements=[endorsement]))
        transaction = transaction_pb2.Transaction(actions=[transaction_pb2.TransactionAction(header=unpacked["header"].signature_header, payload=action_payload.SerializeToString())])
        return common_pb2.Payload(header=unpacked["header"], data=transaction.SerializeToString()).SerializeToString()

    # -- Endorse ------------------------------------------------------------------------------

    def Endorse(self, request, context):
        self.faults.apply("Endorse", context)
        if not request.proposed_transaction.proposal_bytes:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the proposed transaction must contain a signed proposal")
        try:
            unpacked = self.unpack(request.proposed_transaction, context)
            tx_id = unpacked["channel_header"].tx_id
            with self.ledger.lock:
                if tx_id in self.ledger.transactions or tx_id in self.pending:
                    raise AccessDenied(f"duplicate transaction found [{tx_id}]")
            stub, result = self.simulate(unpacked)
        except AccessDenied as error:
            abort_with_details(context, grpc.StatusCode.ABORTED, "failed to endorse transaction, see attached details for more info",
                               [self.detail(str(error) if str(error).startswith("access denied") else f"access denied: {error}")])
        except Refusal as error:
            abort_with_details(context, grpc.StatusCode.ABORTED, "failed to endorse transaction, see attached details for more info",
                               [self.detail(f"chaincode response 500, {error}")])
        payload = self.endorse_response(unpacked, stub, result)
        with self.ledger.lock:
            self.pending[tx_id] = {"payload": payload, "creator": unpacked["signature_header"].creator,
                                   "reads": stub.reads, "writes": stub.writes}
        return gateway_pb2.EndorseResponse(prepared_transaction=common_pb2.Envelope(payload=payload))

    # -- Submit -------------------------------------------------------------------------------

    def Submit(self, request, context):
        self.faults.apply("Submit", context)
        envelope = request.prepared_transaction
        if not envelope.payload:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a prepared transaction is required")
        if not envelope.signature:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "prepared transaction must be signed")
        with self.ledger.lock:
            prepared = self.pending.get(request.transaction_id)
        if prepared is None or prepared["payload"] != envelope.payload:
            context.abort(grpc.StatusCode.ABORTED, "received unsuccessful response from orderer: status=BAD_REQUEST, "
                          "info=the payload is not byte-identical to the transaction prepared at Endorse")
        try:
            payload = common_pb2.Payload.FromString(envelope.payload)
            creator = common_pb2.SignatureHeader.FromString(payload.header.signature_header).creator
            if creator != prepared["creator"]:
                raise AccessDenied("the envelope's creator is not the proposal's")
            _, certificate = self.msp.deserialize(creator)
            verify_low_s(certificate.public_key(), envelope.signature, envelope.payload)
        except AccessDenied as error:
            context.abort(grpc.StatusCode.ABORTED, f"received unsuccessful response from orderer: status=FORBIDDEN, info={error}")
        force = MVCC_READ_CONFLICT if self.faults.take("Commit", ("mvcc",)) else None
        with self.ledger.lock:
            del self.pending[request.transaction_id]
            self.commit_queue.append((time.monotonic() + self.options.commit_delay_ms / 1000, request.transaction_id,
                                      envelope.SerializeToString(), prepared, force))
            self.ledger.lock.notify_all()
        return gateway_pb2.SubmitResponse()

    def committer(self):
        with self.ledger.lock:
            while True:
                if not self.commit_queue:
                    self.ledger.lock.wait()
                    continue
                due, tx_id, envelope, prepared, force = self.commit_queue[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self.ledger.lock.wait(delay)
                    continue
                self.commit_queue.pop(0)
                self.ledger.commit(tx_id, envelope, prepared["reads"], prepared["writes"], force)

    # -- CommitStatus -------------------------------------------------------------------------

    def CommitStatus(self, request, context):
        self.faults.apply("CommitStatus", context)
        if not request.request:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a commit status request is required")
        status_request = gateway_pb2.CommitStatusRequest.FromString(request.request)
        try:
            _, certificate = self.msp.deserialize(status_request.identity)
            verify_low_s(certificate.public_key(), request.signature, request.request)
        except AccessDenied as error:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"access denied: {error}")
        with self.ledger.lock:
            while status_request.transaction_id not in self.ledger.transactions:
                if not context.is_active():
                    context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the transaction has not committed")
                self.ledger.lock.wait(0.05)
            committed = self.ledger.transactions[status_request.transaction_id]
        return gateway_pb2.CommitStatusResponse(result=committed["code"], block_number=committed["block"])

    # -- Evaluate -----------------------------------------------------------------------------

    def Evaluate(self, request, context):
        self.faults.apply("Evaluate", context)
        try:
            unpacked = self.unpack(request.proposed_transaction, context)
            if unpacked["chaincode"] == "qscc":
                payload = self.qscc(unpacked["args"])
            else:
                _, payload = self.simulate(unpacked)
        except AccessDenied as error:
            abort_with_details(context, grpc.StatusCode.FAILED_PRECONDITION, f"evaluate call to endorser returned error: {error}",
                               [self.detail(str(error))])
        except Refusal as error:
            abort_with_details(context, grpc.StatusCode.UNKNOWN, f"evaluate call to endorser returned error: chaincode response 500, {error}",
                               [self.detail(f"chaincode response 500, {error}")])
        return gateway_pb2.EvaluateResponse(result=proposal_response_pb2.Response(status=200, payload=payload))

    def qscc(self, args):
        function, arguments = args[0].decode(), [a.decode() for a in args[1:]]
        if not arguments or arguments[0] != self.options.channel:
            raise Refusal(f"channel {arguments[0] if arguments else ''} not found")
        with self.ledger.lock:
            if function == "GetChainInfo":
                return ledger_pb2.BlockchainInfo(height=self.ledger.height, currentBlockHash=self.ledger.block_hashes[-1],
                                                 previousBlockHash=self.ledger.block_hashes[-2] if len(self.ledger.block_hashes) > 1 else b"").SerializeToString()
            committed = self.ledger.transactions.get(arguments[1]) if len(arguments) == 2 else None
            if committed is None:
                raise Refusal(f"no such transaction ID [{arguments[1] if len(arguments) == 2 else ''}] in index")
            if function == "GetTransactionByID":
                return transaction_pb2.ProcessedTransaction(transactionEnvelope=common_pb2.Envelope.FromString(committed["envelope"]),
                                                            validationCode=committed["code"]).SerializeToString()
            if function == "GetBlockByTxID":
                number = committed["block"]
                return common_pb2.Block(header=common_pb2.BlockHeader(number=number, previous_hash=self.ledger.block_hashes[number - 1],
                                                                      data_hash=hashlib.sha256(committed["envelope"]).digest()),
                                        data=common_pb2.BlockData(data=[committed["envelope"]]),
                                        metadata=common_pb2.BlockMetadata(metadata=[b"", b"", bytes([committed["code"]]), b"", b""])).SerializeToString()
        raise Refusal(f"unknown qscc function {function}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--channel", default="wards")
    parser.add_argument("--chaincode", default="wardgate-anchor")
    parser.add_argument("--client-msp", action="append", required=True, help="MSPID=CA_PEM_FILE (repeatable)")
    parser.add_argument("--peer-msp", required=True)
    parser.add_argument("--peer-cert", required=True)
    parser.add_argument("--peer-key", required=True)
    parser.add_argument("--register", action="append", default=[],
                        help="ORIGIN=GATEWAY_CERT_PEM:MSPID, as if RegisterGateway had been committed by that MSP's admin")
    parser.add_argument("--state", help="file that keeps world state and blocks across restarts")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--tls-client-ca", help="require client certificates from this CA (mutual TLS)")
    parser.add_argument("--fault", action="append", help="METHOD=KIND:COUNT; METHOD Endorse|Submit|CommitStatus|Evaluate|Commit|*, "
                        "KIND unavailable|deadline|aborted (calls) or mvcc (Commit: invalidate the next COUNT commits)")
    parser.add_argument("--deadline-sleep", type=float, default=5.0, help="seconds a 'deadline' fault stalls a call")
    parser.add_argument("--commit-delay-ms", type=float, default=0.0)
    options = parser.parse_args()

    cas = {}
    for entry in options.client_msp:
        mspid, _, path = entry.partition("=")
        cas[mspid] = x509.load_pem_x509_certificate(open(path, "rb").read())
    peer_key = serialization.load_pem_private_key(open(options.peer_key, "rb").read(), password=None)
    peer_identity = identities_pb2.SerializedIdentity(mspid=options.peer_msp, id_bytes=open(options.peer_cert, "rb").read()).SerializeToString()
    ledger = Ledger(options.state, options.channel)
    for entry in options.register:
        origin, _, rest = entry.partition("=")
        path, _, mspid = rest.rpartition(":")
        pem = open(path).read()
        certificate = x509.load_pem_x509_certificate(pem.encode())
        record = json.dumps({"origin": origin, "mspId": mspid, "certificate": pem, "keyId": note_key_id(certificate).hex()}, separators=(",", ":"), ensure_ascii=False).encode()
        with ledger.lock:
            if gateway_key(origin) not in ledger.state:
                ledger.state[gateway_key(origin)] = {"value": record, "version": (0, 0)}
                ledger.save()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayDouble(options, ledger, MSP(cas), peer_key, peer_identity), server)
    address = f"127.0.0.1:{options.port}"
    if options.tls_cert:
        client_ca = open(options.tls_client_ca, "rb").read() if options.tls_client_ca else None
        credentials = grpc.ssl_server_credentials([(open(options.tls_key, "rb").read(), open(options.tls_cert, "rb").read())],
                                                  root_certificates=client_ca, require_client_auth=client_ca is not None)
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    server.start()
    print(f"READY {port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
