// Command wardgate-anchor is the chaincode that anchors wardgate's signed log checkpoints in a
// Hyperledger Fabric channel. The contract is specified in docs/ledger-fabric.md; wardgate's
// test peer (Sources/Tools/TestSupport/Fabric/fabric_test_peer.py) runs the same rules.
package main

import (
	"log"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

func main() {
	chaincode, err := contractapi.NewChaincode(&AnchorContract{})
	if err != nil {
		log.Panicf("creating the wardgate-anchor chaincode: %v", err)
	}
	if err := chaincode.Start(); err != nil {
		log.Panicf("starting the wardgate-anchor chaincode: %v", err)
	}
}
