package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// AnchorContract anchors C2SP checkpoints of wardgate Merkle logs, one chain per origin.
type AnchorContract struct {
	contractapi.Contract
}

// GatewayRecord is the certificate whose key must sign an origin's checkpoints.
type GatewayRecord struct {
	Origin      string `json:"origin"`
	MspID       string `json:"mspId"`
	Certificate string `json:"certificate"`
	KeyID       string `json:"keyId"`
}

// AnchorRecord is written once per anchored (origin, tree size).
type AnchorRecord struct {
	Origin           string `json:"origin"`
	TreeSize         uint64 `json:"treeSize"`
	RootHash         string `json:"rootHash"`
	CheckpointNote   string `json:"checkpointNote"`
	PreviousTreeSize uint64 `json:"previousTreeSize"`
	TxID             string `json:"txId"`
}

// HeadRecord is the last anchored checkpoint of an origin.
type HeadRecord struct {
	Origin   string `json:"origin"`
	TreeSize uint64 `json:"treeSize"`
	RootHash string `json:"rootHash"`
}

type consistencyProof struct {
	FromSize *uint64  `json:"fromSize"`
	ToSize   *uint64  `json:"toSize"`
	Hashes   []string `json:"hashes"`
}

func refuse(format string, arguments ...interface{}) error { return fmt.Errorf(format, arguments...) }

func anchorKey(ctx contractapi.TransactionContextInterface, origin string, size uint64) (string, error) {
	return ctx.GetStub().CreateCompositeKey("wardgate.anchor", []string{origin, fmt.Sprintf("%020d", size)})
}

func headKey(ctx contractapi.TransactionContextInterface, origin string) (string, error) {
	return ctx.GetStub().CreateCompositeKey("wardgate.head", []string{origin})
}

func gatewayKey(ctx contractapi.TransactionContextInterface, origin string) (string, error) {
	return ctx.GetStub().CreateCompositeKey("wardgate.gateway", []string{origin})
}

// marshal writes JSON without HTML escaping, members in declaration order.
func marshal(value interface{}) ([]byte, error) {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buffer.Bytes(), []byte("\n")), nil
}

func getJSON(ctx contractapi.TransactionContextInterface, key string, into interface{}) (bool, error) {
	value, err := ctx.GetStub().GetState(key)
	if err != nil || value == nil {
		return false, err
	}
	return true, json.Unmarshal(value, into)
}

// Anchor anchors the checkpoint of origin at treeSize. Rules, in order (docs/ledger-fabric.md):
// the note parses and names (origin, treeSize); the origin has a registered gateway
// certificate, registered by the caller's MSP; the same note again returns the record already
// written (idempotent); the note is signed by the registered certificate's key; the same size
// with another root, or a size below the last anchored one, is a fork; the consistency proof
// runs from the last anchored size to treeSize and verifies between the two roots.
func (c *AnchorContract) Anchor(ctx contractapi.TransactionContextInterface, origin string, treeSize string, checkpointNote string, proofJSON string) (string, error) {
	size, err := strconv.ParseUint(treeSize, 10, 64)
	if err != nil || size == 0 || strconv.FormatUint(size, 10) != treeSize {
		return "", refuse("invalid: treeSize must be a positive decimal number")
	}
	note, err := parseCheckpointNote(checkpointNote)
	if err != nil {
		return "", err
	}
	if note.origin != origin || note.size != size {
		return "", refuse("invalid: the checkpoint is %s@%d, the call names %s@%d", note.origin, note.size, origin, size)
	}
	var gateway GatewayRecord
	key, err := gatewayKey(ctx, origin)
	if err != nil {
		return "", err
	}
	if found, err := getJSON(ctx, key, &gateway); err != nil {
		return "", err
	} else if !found {
		return "", refuse("untrusted: origin %s has no registered gateway certificate", origin)
	}
	caller, err := ctx.GetClientIdentity().GetMSPID()
	if err != nil {
		return "", err
	}
	if gateway.MspID != caller {
		return "", refuse("untrusted: origin %s belongs to %s, the caller is %s", origin, gateway.MspID, caller)
	}
	recordKey, err := anchorKey(ctx, origin, size)
	if err != nil {
		return "", err
	}
	var existing AnchorRecord
	exists, err := getJSON(ctx, recordKey, &existing)
	if err != nil {
		return "", err
	}
	if exists && existing.CheckpointNote == checkpointNote {
		return marshalString(existing)
	}
	publicKey, keyID, err := gatewayPublicKey(gateway.Certificate)
	if err != nil {
		return "", err
	}
	if !note.signedBy(origin, keyID, publicKey) {
		return "", refuse("untrusted: the checkpoint is not signed by the gateway certificate registered for %s (key id %s)", origin, hex.EncodeToString(keyID))
	}
	if exists {
		if existing.RootHash == hex.EncodeToString(note.root) {
			return marshalString(existing)
		}
		return "", refuse("fork: size %d is already anchored with another root hash", size)
	}
	hKey, err := headKey(ctx, origin)
	if err != nil {
		return "", err
	}
	var head HeadRecord
	if _, err := getJSON(ctx, hKey, &head); err != nil {
		return "", err
	}
	if head.TreeSize > size {
		return "", refuse("fork: size %d is smaller than the last anchored size %d", size, head.TreeSize)
	}
	var proof consistencyProof
	if err := json.Unmarshal([]byte(proofJSON), &proof); err != nil || proof.FromSize == nil || proof.ToSize == nil {
		return "", refuse("invalid: the consistency proof is not {fromSize, toSize, hashes}")
	}
	if *proof.FromSize != head.TreeSize || *proof.ToSize != size {
		return "", refuse("invalid: the consistency proof runs %d->%d; the ledger needs %d->%d", *proof.FromSize, *proof.ToSize, head.TreeSize, size)
	}
	path := make([][]byte, 0, len(proof.Hashes))
	for _, text := range proof.Hashes {
		hash, err := hex.DecodeString(text)
		if err != nil || len(hash) != 32 {
			return "", refuse("invalid: the consistency proof is not {fromSize, toSize, hashes}")
		}
		path = append(path, hash)
	}
	if head.TreeSize == 0 {
		if len(path) != 0 {
			return "", refuse("invalid: a proof from the empty tree has no hashes")
		}
	} else {
		headRoot, err := hex.DecodeString(head.RootHash)
		if err != nil || !verifyConsistency(head.TreeSize, size, headRoot, note.root, path) {
			return "", refuse("fork: the checkpoint is not consistent with the anchored checkpoint of size %d", head.TreeSize)
		}
	}
	record := AnchorRecord{Origin: origin, TreeSize: size, RootHash: hex.EncodeToString(note.root), CheckpointNote: checkpointNote,
		PreviousTreeSize: head.TreeSize, TxID: ctx.GetStub().GetTxID()}
	if err := putJSON(ctx, recordKey, record); err != nil {
		return "", err
	}
	if err := putJSON(ctx, hKey, HeadRecord{Origin: origin, TreeSize: size, RootHash: record.RootHash}); err != nil {
		return "", err
	}
	return marshalString(record)
}

// RegisterGateway registers (or rotates) the certificate whose key signs origin's checkpoints.
// Only an admin (OU "admin") of an organization may call it, and an origin stays with the
// organization that registered it first.
func (c *AnchorContract) RegisterGateway(ctx contractapi.TransactionContextInterface, origin string, certificatePEM string) (string, error) {
	caller, err := ctx.GetClientIdentity().GetX509Certificate()
	if err != nil {
		return "", err
	}
	isAdmin := false
	for _, unit := range caller.Subject.OrganizationalUnit {
		isAdmin = isAdmin || unit == "admin"
	}
	if !isAdmin {
		return "", refuse("untrusted: only an admin of the origin's organization (OU admin) may register a gateway")
	}
	mspID, err := ctx.GetClientIdentity().GetMSPID()
	if err != nil {
		return "", err
	}
	_, keyID, err := gatewayPublicKey(certificatePEM)
	if err != nil {
		return "", err
	}
	key, err := gatewayKey(ctx, origin)
	if err != nil {
		return "", err
	}
	var existing GatewayRecord
	if found, err := getJSON(ctx, key, &existing); err != nil {
		return "", err
	} else if found && existing.MspID != mspID {
		return "", refuse("untrusted: origin %s is registered to %s", origin, existing.MspID)
	}
	record := GatewayRecord{Origin: origin, MspID: mspID, Certificate: certificatePEM, KeyID: hex.EncodeToString(keyID)}
	if err := putJSON(ctx, key, record); err != nil {
		return "", err
	}
	return marshalString(record)
}

// GetAnchor returns the anchor record of (origin, treeSize), or "" if there is none.
func (c *AnchorContract) GetAnchor(ctx contractapi.TransactionContextInterface, origin string, treeSize string) (string, error) {
	size, err := strconv.ParseUint(treeSize, 10, 64)
	if err != nil {
		return "", refuse("invalid: treeSize must be a decimal number")
	}
	key, err := anchorKey(ctx, origin, size)
	if err != nil {
		return "", err
	}
	return getString(ctx, key)
}

// GetHead returns the last anchored checkpoint of origin, or "".
func (c *AnchorContract) GetHead(ctx contractapi.TransactionContextInterface, origin string) (string, error) {
	key, err := headKey(ctx, origin)
	if err != nil {
		return "", err
	}
	return getString(ctx, key)
}

// GetGateway returns the registered gateway certificate record of origin, or "".
func (c *AnchorContract) GetGateway(ctx contractapi.TransactionContextInterface, origin string) (string, error) {
	key, err := gatewayKey(ctx, origin)
	if err != nil {
		return "", err
	}
	return getString(ctx, key)
}

func getString(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	value, err := ctx.GetStub().GetState(key)
	return string(value), err
}

func putJSON(ctx contractapi.TransactionContextInterface, key string, value interface{}) error {
	encoded, err := marshal(value)
	if err != nil {
		return err
	}
	return ctx.GetStub().PutState(key, encoded)
}

func marshalString(value interface{}) (string, error) {
	encoded, err := marshal(value)
	return string(encoded), err
}

// gatewayPublicKey parses a P-256 certificate and its C2SP key id, SHA-256(SPKI)[0:4].
func gatewayPublicKey(certificatePEM string) (*ecdsa.PublicKey, []byte, error) {
	block, _ := pem.Decode([]byte(certificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, refuse("invalid: the gateway certificate is not PEM")
	}
	certificate, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, refuse("invalid: the gateway certificate does not parse: %v", err)
	}
	key, ok := certificate.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, nil, refuse("invalid: the gateway certificate's key is not P-256")
	}
	digest := sha256.Sum256(certificate.RawSubjectPublicKeyInfo)
	return key, digest[:4], nil
}
