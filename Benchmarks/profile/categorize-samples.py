#!/usr/bin/env python3
"""Assigns each perf sample (perf script -F tid,ip,sym | swift demangle) to the first category whose
pattern occurs in its call chain, in priority order, and prints the shares of all samples.
Also prints the self time of allocation/refcount/copy functions (the leaf frame), across all categories."""
import re, sys, collections
CATEGORIES = [
    ("P-256 arithmetic (ECDSA_do_sign and below)", r"ECDSA_do_sign|ecdsa_sign|ecp_nistz256|BN_|bn_"),
    ("JCS canonicalization", r"JCS\.|ECMAScriptNumber|ObservationRenderer|CanonicalNumber"),
    ("rest of signing (SHA-256 of the input, base64url, Data, DER→raw, JWS text)", r"DeviceSigner|ObservationSigning\.sign|SignatureProduction|CompactJWS"),
    ("timestamp parsing", r"JSONPayload\.timestamp|EpochTime|parseRFC3339"),
    ("rest of decode (JSON parse, pointers, numbers)", r"PayloadDecoder\.decode|JSONPayload|SenMLPayload|JSONParser"),
    ("normalize (units, range, id, FHIR tree)", r"Normalizer\.|ObservationResource|readingId|payloadKey"),
    ("FHIR JSON tree → stored bytes", r"serializedBytes|JSONValue\.write"),
    ("Merkle leaf hash + tree append", r"appendLeaves|LogTree|LeafEncoding|SubtreeHash|RFC9162"),
    ("fsync", r"fdatasync|fsync"),
    ("SQLite (statements, pages, pwrite/pread)", r"sqlite3|Statement\.|Database\.|DatabasePool|SerializedDatabase|pwrite|pread|Journal\."),
    ("MQTT (libmosquitto, sockets)", r"mosquitto|ClientCore|MQTTClient|sock_|tcp_|ip_|net_rx|__sys_sendto|__sys_recvfrom"),
    ("batch cut, checkpoints, ledger", r"cutDueBatches|cutBatch|Ledger|Outbox|enqueueBatch|CheckpointSigner"),
    ("processor scheduling (dispatch, tasks)", r"concurrentPerform|dispatch_|swift_job_run|_dispatch"),
]
CHURN = re.compile(r"^(swift_retain|swift_release|swift_bridgeObjectRetain|swift_bridgeObjectRelease|malloc|_int_malloc|_int_free|free|cfree|__memmove|__memcpy|__memset|swift_arrayDestroy|swift_allocObject|_swift_release_dealloc|swift_deallocClassInstance|swift_isUniquelyReferenced|swift_beginAccess|swift_endAccess)")
def samples(lines):
    chain = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if chain: yield chain
            chain = []
            continue
        if line.startswith("\t") or line.startswith(" " * 4):
            parts = line.strip().split(" ", 1)
            chain.append(parts[1] if len(parts) > 1 else "")
    if chain: yield chain
counts = collections.Counter(); churn = collections.Counter(); total = 0
for chain in samples(open(sys.argv[1])):
    total += 1
    text = "\n".join(chain)
    for name, pattern in CATEGORIES:
        if re.search(pattern, text):
            counts[name] += 1; break
    else:
        counts["other"] += 1
    leaf = chain[0] if chain else ""
    m = CHURN.match(leaf)
    if m: churn[m.group(1)] += 1
print(f"{total} samples")
for name, _ in CATEGORIES + [("other", "")]:
    print(f"{100*counts[name]/total:6.1f} %  {name}")
print(f"{100*sum(churn.values())/total:6.1f} %  (self time of retain/release/malloc/free/memmove, spread over the rows above)")
for k, v in churn.most_common(8): print(f"          {100*v/total:5.1f} %  {k}")
