#!/usr/bin/env python3
"""Independent check of a wardgate checkpoint note (C2SP signed note, ECDSA P-256).

Usage: check_note.py NOTE_FILE PUBLIC_KEY_PEM KEY_NAME

Parses the note, checks the C2SP tlog-checkpoint body, recomputes the key ID
as SHA-256(DER SubjectPublicKeyInfo)[:4] (signature type 0x02), and verifies
the ASN.1 DER ECDSA signature over SHA-256 of the note text with the
`cryptography` package. Prints "OK <origin> <size> <root base64>" and exits 0
if a signature by KEY_NAME verifies; prints the reason and exits 1 otherwise.
Exits 2 if the `cryptography` package is missing.
"""

import base64
import binascii
import hashlib
import re
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:
    print("the Python package 'cryptography' is required (pip install cryptography)")
    sys.exit(2)

EM_DASH_PREFIX = "\u2014 "


def fail(reason):
    print("FAIL " + reason)
    sys.exit(1)


def strict_b64(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        fail("bad base64: " + text[:40])
    if base64.b64encode(raw).decode("ascii") != text:
        fail("non-canonical base64: " + text[:40])
    return raw


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(64)
    note_path, pem_path, key_name = sys.argv[1:]
    data = open(note_path, "rb").read()
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        fail("note is not UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        fail("control character in note")

    split = note.rfind("\n\n")
    if split < 0:
        fail("no blank line before the signatures")
    text = note[: split + 1]
    sig_block = note[split + 2 :]
    if not sig_block.endswith("\n") or sig_block == "":
        fail("signature block must end with a newline")

    lines = text[:-1].split("\n")
    if len(lines) < 3:
        fail("checkpoint needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if origin == "":
        fail("empty origin")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        fail("bad tree size line")
    root = strict_b64(root_text)
    if len(root) != 32:
        fail("root hash is not 32 bytes")

    public_key = serialization.load_pem_public_key(open(pem_path, "rb").read())
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        fail("public key is not ECDSA P-256")
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected_key_id = hashlib.sha256(spki).digest()[:4]

    verified = False
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(EM_DASH_PREFIX):
            fail("signature line does not start with an em dash and a space")
        parts = line[len(EM_DASH_PREFIX) :].split(" ")
        if len(parts) != 2:
            fail("signature line needs a key name and a signature")
        name, sig_text = parts
        raw = strict_b64(sig_text)
        if len(raw) < 5:
            fail("signature too short")
        key_id, signature = raw[:4], raw[4:]
        if name != key_name or key_id != expected_key_id:
            continue  # unknown key: ignored, as the spec says
        try:
            public_key.verify(signature, text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            fail("signature by the trusted key does not verify")
        verified = True

    if not verified:
        fail("no signature from key %s with key ID %s" % (key_name, expected_key_id.hex()))
    print("OK %s %s %s" % (origin, size_text, root_text))


if __name__ == "__main__":
    main()
