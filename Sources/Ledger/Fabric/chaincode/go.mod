module github.com/wardgate/wardgate-anchor

go 1.22

require github.com/hyperledger/fabric-contract-api-go/v2 v2.2.0
