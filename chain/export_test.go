package chain

// MinPayment exposes minPayment to the external tests.
var MinPayment = minPayment
