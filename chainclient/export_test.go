package chainclient

// TxByHash exposes txByHash to the external tests.
var TxByHash = (*Client).txByHash
