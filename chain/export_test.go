package chain

// MinPayment exposes minPayment to the external tests.
var MinPayment = minPayment

// TxFee exposes txFee to the external tests.
var TxFee = txFee
