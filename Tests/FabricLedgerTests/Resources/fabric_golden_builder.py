#!/usr/bin/env python3
"""Golden-vector builder: the bytes of a Fabric proposal and commit-status request, built with
the official protos (PyPI hyperledger-fabric-protos) the way fabric-gateway's
pkg/client/proposalbuilder.go and transactioncontext.go build them.

Reads a JSON object on stdin: {"mspId", "certificatePem", "nonceHex", "seconds", "nanos",
"channel", "chaincode", "argsHex": [...]}; prints the hex of each part as JSON on stdout.
FabricLedgerTests compares these with the bytes wardgate builds from the same inputs.
"""
import hashlib
import json
import sys

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2


def build(spec):
    creator = identities_pb2.SerializedIdentity(mspid=spec["mspId"], id_bytes=spec["certificatePem"].encode()).SerializeToString()
    nonce = bytes.fromhex(spec["nonceHex"])
    tx_id = hashlib.sha256(nonce + creator).hexdigest()
    chaincode_id = chaincode_pb2.ChaincodeID(name=spec["chaincode"])
    extension = proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id).SerializeToString()
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.ENDORSER_TRANSACTION,
        timestamp=timestamp_pb2.Timestamp(seconds=spec["seconds"], nanos=spec["nanos"]),
        channel_id=spec["channel"],
        tx_id=tx_id,
        epoch=0,
        extension=extension,
    ).SerializeToString()
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=nonce).SerializeToString()
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=[bytes.fromhex(a) for a in spec["argsHex"]]),
        )
    ).SerializeToString()
    payload = proposal_pb2.ChaincodeProposalPayload(input=invocation).SerializeToString()
    header = common_pb2.Header(channel_header=channel_header, signature_header=signature_header).SerializeToString()
    proposal = proposal_pb2.Proposal(header=header, payload=payload).SerializeToString()
    commit_status = gateway_pb2.CommitStatusRequest(transaction_id=tx_id, channel_id=spec["channel"], identity=creator).SerializeToString()
    return {
        "creator": creator.hex(),
        "txId": tx_id,
        "channelHeader": channel_header.hex(),
        "signatureHeader": signature_header.hex(),
        "chaincodeProposalPayload": payload.hex(),
        "proposal": proposal.hex(),
        "proposalHash": hashlib.sha256(channel_header + signature_header + payload).hexdigest(),
        "commitStatusRequest": commit_status.hex(),
    }


if __name__ == "__main__":
    json.dump(build(json.load(sys.stdin)), sys.stdout, sort_keys=True)
