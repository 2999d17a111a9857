package wire

import "errors"

func asCoded(err error, target **CodedError) bool { return errors.As(err, target) }
