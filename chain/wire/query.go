package wire

import (
	"net/url"
	"strconv"

	"github.com/cairn-storage/cairn/core"
)

// ABCI query paths. Every answer is JSON; an error answer has a non-zero
// code (see codes.go) and the message in the log.
//
//	/params                          Params
//	/status                          Status
//	/account/{hex}                   Account (zero values for an unknown account)
//	/nonce/{hex}                     NextNonce
//	/provider/{hex}                  Provider
//	/provider/{hex}/agreements       []Agreement, by bucket (an index: cost grows with the provider's own;
//	                                 an expired one is listed until the provider's next agreement prunes it)
//	/providers                       []Provider, by account
//	/bucket/{id}                     Bucket
//	/bucket/{id}/agreements          []Agreement, by provider
//	/bucket/{id}/checkpoint          Checkpoint, the latest (NotFound if none)
//	/bucket/{id}/checkpoints         []Checkpoint, oldest first
//	/bucket/{id}/equivocations       []Equivocation, by seq
//	/challenge/{id}                  Challenge
//	/challenges?provider=&bucket=&state=   []Challenge, by id (filters optional)
//	/drive/{id}                      Drive
//	/drives?owner={hex}              []Drive, by id
func PathParams() string                   { return "/params" }
func PathStatus() string                   { return "/status" }
func PathAccount(a core.AccountID) string  { return "/account/" + a.String() }
func PathNonce(a core.AccountID) string    { return "/nonce/" + a.String() }
func PathProvider(a core.AccountID) string { return "/provider/" + a.String() }
func PathProviders() string                { return "/providers" }
func PathProviderAgreements(a core.AccountID) string {
	return "/provider/" + a.String() + "/agreements"
}
func PathBucket(b core.BucketID) string       { return "/bucket/" + b.String() }
func PathAgreements(b core.BucketID) string   { return "/bucket/" + b.String() + "/agreements" }
func PathCheckpoint(b core.BucketID) string   { return "/bucket/" + b.String() + "/checkpoint" }
func PathCheckpoints(b core.BucketID) string  { return "/bucket/" + b.String() + "/checkpoints" }
func PathChallenge(c core.ChallengeID) string { return "/challenge/" + c.String() }
func PathEquivocations(b core.BucketID) string {
	return "/bucket/" + b.String() + "/equivocations"
}
func PathDrive(d core.DriveID) string        { return "/drive/" + d.String() }
func PathDrives(owner core.AccountID) string { return "/drives?owner=" + owner.String() }

// ChallengeFilter selects challenges; zero fields match everything.
type ChallengeFilter struct {
	Provider *core.AccountID
	Bucket   core.BucketID
	State    string // open | answered | slashed | void
}

// PathChallenges is the query path for the challenges f selects.
func PathChallenges(f ChallengeFilter) string {
	v := url.Values{}
	if f.Provider != nil {
		v.Set("provider", f.Provider.String())
	}
	if f.Bucket != 0 {
		v.Set("bucket", strconv.FormatUint(uint64(f.Bucket), 10))
	}
	if f.State != "" {
		v.Set("state", f.State)
	}
	if len(v) == 0 {
		return "/challenges"
	}
	return "/challenges?" + v.Encode()
}
