package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

type noteSignature struct {
	name      string
	keyID     []byte
	signature []byte
}

type checkpointNote struct {
	text       string
	origin     string
	size       uint64
	root       []byte
	signatures []noteSignature
}

// parseCheckpointNote reads a C2SP signed note whose text is a C2SP tlog checkpoint.
func parseCheckpointNote(note string) (*checkpointNote, error) {
	split := strings.LastIndex(note, "\n\n")
	if split < 0 || !strings.HasSuffix(note, "\n") {
		return nil, refuse("invalid: the checkpoint note is not a signed note")
	}
	text, block := note[:split+1], note[split+2:]
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		return nil, refuse("invalid: the note is not a checkpoint")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, refuse("invalid: the checkpoint size is not a decimal number")
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		return nil, refuse("invalid: the checkpoint root is not base64")
	}
	if len(root) != 32 {
		return nil, refuse("invalid: the checkpoint root is not 32 bytes")
	}
	parsed := &checkpointNote{text: text, origin: lines[0], size: size, root: root}
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		if !strings.HasPrefix(line, "\u2014 ") {
			return nil, refuse("invalid: a signature line does not start with an em dash")
		}
		fields := strings.TrimPrefix(line, "\u2014 ")
		space := strings.LastIndex(fields, " ")
		if space < 0 {
			return nil, refuse("invalid: a signature line has no signature")
		}
		raw, err := base64.StdEncoding.DecodeString(fields[space+1:])
		if err != nil || len(raw) < 5 {
			return nil, refuse("invalid: a signature is not base64 of a key id and a signature")
		}
		parsed.signatures = append(parsed.signatures, noteSignature{name: fields[:space], keyID: raw[:4], signature: raw[4:]})
	}
	return parsed, nil
}

// signedBy: one signature line names origin with keyID and verifies (ECDSA P-256, SHA-256, DER).
func (note *checkpointNote) signedBy(origin string, keyID []byte, key *ecdsa.PublicKey) bool {
	digest := sha256.Sum256([]byte(note.text))
	for _, signature := range note.signatures {
		if signature.name == origin && bytes.Equal(signature.keyID, keyID) && ecdsa.VerifyASN1(key, digest[:], signature.signature) {
			return true
		}
	}
	return false
}
