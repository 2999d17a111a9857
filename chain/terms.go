package chain

import (
	"math/big"

	"github.com/cairn-storage/cairn/chain/wire"
	"github.com/cairn-storage/cairn/core"
)

// maxTermRoles bounds the roles a provider's terms list.
const maxTermRoles = 2

// validTerms checks terms a provider publishes: known roles, each once,
// and a duration limit that is not negative.
func validTerms(op string, t wire.ProviderTerms) error {
	if len(t.Roles) > maxTermRoles {
		return core.Errorf(op, core.Invalid, "terms list %d roles, at most %d", len(t.Roles), maxTermRoles)
	}
	seen := map[wire.Role]bool{}
	for _, r := range t.Roles {
		if !r.Valid() {
			return core.Errorf(op, core.Invalid, "terms: role %q is not primary or replica", r)
		}
		if seen[r] {
			return core.Errorf(op, core.Invalid, "terms list role %s twice", r)
		}
		seen[r] = true
	}
	if t.MaxDuration < 0 {
		return core.Errorf(op, core.Invalid, "terms: max_duration %d is negative", t.MaxDuration)
	}
	return nil
}

// minPayment is ceil(maxBytes x duration x price / 2^30), exactly; ok is
// false if it does not fit in a uint64 (no payment can meet it).
func minPayment(maxBytes uint64, duration int64, price uint64) (uint64, bool) {
	n := new(big.Int).SetUint64(maxBytes)
	n.Mul(n, big.NewInt(duration))
	n.Mul(n, new(big.Int).SetUint64(price))
	n.Add(n, big.NewInt(1<<30-1))
	n.Rsh(n, 30)
	if !n.IsUint64() {
		return 0, false
	}
	return n.Uint64(), true
}

// offer is an agreement as create_agreement or create_drive proposes it.
type offer struct {
	role     wire.Role
	maxBytes uint64
	duration int64
	payment  uint64
}

// meetsTerms is the provider's consent: an agreement binds provider only
// if it meets the terms the provider published on chain (kind
// Unauthorized otherwise, naming the unmet term). committed is the
// MaxBytes of the provider's active agreements (its index, provindex.go).
func meetsTerms(op string, provider core.AccountID, p providerRecord, o offer, committed uint64) error {
	t := p.Terms
	if !t.Accepting {
		return core.Errorf(op, core.Unauthorized, "provider %s does not accept agreements (its published terms say accepting=false, or it published none)", provider.Short())
	}
	if len(t.Roles) > 0 {
		found := false
		for _, r := range t.Roles {
			found = found || r == o.role
		}
		if !found {
			return core.Errorf(op, core.Unauthorized, "provider %s's terms do not take the %s role", provider.Short(), o.role)
		}
	}
	if t.MaxDuration > 0 && o.duration > t.MaxDuration {
		return core.Errorf(op, core.Unauthorized, "duration %d blocks is above provider %s's max_duration %d", o.duration, provider.Short(), t.MaxDuration)
	}
	need, ok := minPayment(o.maxBytes, o.duration, t.PricePerGiBBlock)
	if !ok || o.payment < need {
		return core.Errorf(op, core.Unauthorized, "payment %d is below provider %s's price: %d per GiB-block for %d bytes over %d blocks",
			o.payment, provider.Short(), t.PricePerGiBBlock, o.maxBytes, o.duration)
	}
	if total, carry := addU64(committed, o.maxBytes); carry || total > p.Capacity {
		return core.Errorf(op, core.Unauthorized, "max_bytes %d is beyond provider %s's capacity left: %d of %d committed",
			o.maxBytes, provider.Short(), committed, p.Capacity)
	}
	return nil
}

func addU64(a, b uint64) (uint64, bool) {
	s := a + b
	return s, s < a
}
