package wire

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/core"
)

// RouteID names one ABCI query route.
type RouteID int

// The query routes, in the order of the table (and of docs/api.md).
const (
	RouteParams RouteID = iota + 1
	RouteStatus
	RouteAccount
	RouteNonce
	RouteProvider
	RouteProviderAgreements
	RouteProviders
	RouteBucket
	RouteAgreements
	RouteCheckpoint
	RouteCheckpoints
	RouteEquivocations
	RouteChallenge
	RouteChallenges
	RouteDrive
	RouteDrives
	RouteValidators
)

// A Route is one ABCI query path. Every answer is JSON; an error answer
// has a non-zero code (see codes.go) and the message in the log.
type Route struct {
	ID RouteID
	// Pattern is the path: literal segments and at most one parameter,
	// {hex} (an account, 64 hex digits) or {id} (a decimal id > 0 of the
	// kind the segment before it names).
	Pattern string
	// Params are the query parameters (?name=value), in documented order.
	Params []Param
	// Answer is a zero value of the answer's type.
	Answer any
	// Doc says what the answer holds.
	Doc string

	seg field // what the pattern's parameter fills, if it has one
}

// A Param is one query parameter of a route.
type Param struct {
	Name     string
	Required bool // a missing one is invalid; optional ones filter
	f        field
}

// routes is the one table of query paths: the chain's dispatcher
// (ParseQueryPath) and the clients' path builders (Query.Path) both read
// it, and docs/api.md lists it (query_test.go checks).
var routes = [...]Route{
	{ID: RouteParams, Pattern: "/params", Answer: Params{}, Doc: "the chain's parameters"},
	{ID: RouteStatus, Pattern: "/status", Answer: Status{}, Doc: "the application's committed chain id, height, app hash and parameters"},
	{ID: RouteAccount, Pattern: "/account/{hex}", seg: fieldAccount, Answer: Account{},
		Doc: "zero values for an account never seen"},
	{ID: RouteNonce, Pattern: "/nonce/{hex}", seg: fieldAccount, Answer: NextNonce{},
		Doc: "the nonce the account's next tx carries, counting the mempool"},
	{ID: RouteProvider, Pattern: "/provider/{hex}", seg: fieldAccount, Answer: Provider{}, Doc: "a registered provider"},
	{ID: RouteProviderAgreements, Pattern: "/provider/{hex}/agreements", seg: fieldAccount, Answer: []Agreement{},
		Doc: "by bucket (an index: cost grows with the provider's own; an expired one is listed until the provider's next agreement prunes it)"},
	{ID: RouteProviders, Pattern: "/providers", Answer: []Provider{}, Doc: "by account"},
	{ID: RouteBucket, Pattern: "/bucket/{id}", seg: fieldBucket, Answer: Bucket{}, Doc: "a bucket"},
	{ID: RouteAgreements, Pattern: "/bucket/{id}/agreements", seg: fieldBucket, Answer: []Agreement{}, Doc: "by provider"},
	{ID: RouteCheckpoint, Pattern: "/bucket/{id}/checkpoint", seg: fieldBucket, Answer: Checkpoint{},
		Doc: "the latest (NotFound if none)"},
	{ID: RouteCheckpoints, Pattern: "/bucket/{id}/checkpoints", seg: fieldBucket, Answer: []Checkpoint{}, Doc: "oldest first"},
	{ID: RouteEquivocations, Pattern: "/bucket/{id}/equivocations", seg: fieldBucket, Answer: []Equivocation{}, Doc: "by seq"},
	{ID: RouteChallenge, Pattern: "/challenge/{id}", seg: fieldChallenge, Answer: Challenge{}, Doc: "a challenge"},
	{ID: RouteChallenges, Pattern: "/challenges", Answer: []Challenge{}, Doc: "by id, filtered by every parameter given",
		Params: []Param{{Name: "provider", f: fieldFilterProvider}, {Name: "bucket", f: fieldFilterBucket}, {Name: "state", f: fieldFilterState}}},
	{ID: RouteDrive, Pattern: "/drive/{id}", seg: fieldDrive, Answer: Drive{}, Doc: "a drive"},
	{ID: RouteDrives, Pattern: "/drives", Answer: []Drive{}, Doc: "the owner's drives, by id",
		Params: []Param{{Name: "owner", Required: true, f: fieldAccount}}},
	{ID: RouteValidators, Pattern: "/validators", Answer: []Validator{}, Doc: "the active validator set, by consensus key"},
}

// Routes returns the query routes, in table order.
func Routes() []Route { return append([]Route(nil), routes[:]...) }

// RouteOf returns the route id names, if there is one.
func RouteOf(id RouteID) (Route, bool) {
	if id < 1 || int(id) > len(routes) {
		return Route{}, false
	}
	return routes[id-1], true
}

// A Query is one query path taken apart: its route and the arguments that
// route uses (the others stay zero).
type Query struct {
	Route     RouteID
	Account   core.AccountID // {hex}, or /drives' owner
	Bucket    core.BucketID
	Challenge core.ChallengeID
	Drive     core.DriveID
	Filter    ChallengeFilter // /challenges
}

// ChallengeFilter selects challenges; zero fields match everything.
type ChallengeFilter struct {
	Provider *core.AccountID
	Bucket   core.BucketID
	State    string // open | answered | slashed | void
}

// Path builds q's query path from its route's pattern ("" for no route).
func (q Query) Path() string {
	r, ok := RouteOf(q.Route)
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, s := range segments(r.Pattern) {
		b.WriteByte('/')
		if isParam(s) {
			b.WriteString(r.seg.format(&q))
		} else {
			b.WriteString(s)
		}
	}
	v := url.Values{}
	for _, p := range r.Params {
		if s := p.f.format(&q); s != "" || p.Required {
			v.Set(p.Name, s)
		}
	}
	if len(v) > 0 {
		b.WriteByte('?')
		b.WriteString(v.Encode())
	}
	return b.String()
}

// ParseQueryPath takes a query path apart by the route table. A path of no
// route's shape is NotFound; a malformed query string, id or parameter on
// a route's shape is Invalid. Unknown query parameters are ignored.
func ParseQueryPath(path string) (Query, error) {
	const op = "wire.ParseQueryPath"
	rawPath, rawQuery, _ := strings.Cut(path, "?")
	args, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Query{}, core.Errorf(op, core.Invalid, "bad query string: %v", err)
	}
	segs := strings.Split(strings.Trim(rawPath, "/"), "/")
	for i := range routes {
		r := &routes[i]
		pat := segments(r.Pattern)
		if !sameShape(pat, segs) {
			continue
		}
		q := Query{Route: r.ID}
		for j, s := range pat {
			if isParam(s) {
				if err := r.seg.parse(&q, segs[j]); err != nil {
					return Query{}, err
				}
			}
		}
		for _, p := range r.Params {
			if s := args.Get(p.Name); s != "" || p.Required {
				if err := p.f.parse(&q, s); err != nil {
					return Query{}, err
				}
			}
		}
		return q, nil
	}
	return Query{}, core.Errorf(op, core.NotFound, "no query path %q", path)
}

func segments(pattern string) []string { return strings.Split(strings.Trim(pattern, "/"), "/") }

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") }

// sameShape reports whether segs has pat's length and literal segments.
func sameShape(pat, segs []string) bool {
	if len(pat) != len(segs) {
		return false
	}
	for i, s := range pat {
		if !isParam(s) && s != segs[i] {
			return false
		}
	}
	return true
}

// field is the Query field a path parameter or query parameter fills.
type field int

const (
	fieldNone field = iota
	fieldAccount
	fieldBucket
	fieldChallenge
	fieldDrive
	fieldFilterProvider
	fieldFilterBucket
	fieldFilterState
)

// format gives f's value in q as text ("" for an absent filter).
func (f field) format(q *Query) string {
	switch f {
	case fieldAccount:
		return q.Account.String()
	case fieldBucket:
		return q.Bucket.String()
	case fieldChallenge:
		return q.Challenge.String()
	case fieldDrive:
		return q.Drive.String()
	case fieldFilterProvider:
		if q.Filter.Provider == nil {
			return ""
		}
		return q.Filter.Provider.String()
	case fieldFilterBucket:
		if q.Filter.Bucket == 0 {
			return ""
		}
		return strconv.FormatUint(uint64(q.Filter.Bucket), 10)
	case fieldFilterState:
		return q.Filter.State
	}
	return ""
}

// parse sets f in q from s; a malformed s is Invalid.
func (f field) parse(q *Query, s string) error {
	var err error
	switch f {
	case fieldAccount:
		q.Account, err = parseAccount(s)
	case fieldBucket:
		q.Bucket, err = core.ParseBucketID(s)
	case fieldChallenge:
		q.Challenge, err = core.ParseChallengeID(s)
	case fieldDrive:
		q.Drive, err = core.ParseDriveID(s)
	case fieldFilterProvider:
		var a core.AccountID
		a, err = parseAccount(s)
		q.Filter.Provider = &a
	case fieldFilterBucket:
		q.Filter.Bucket, err = core.ParseBucketID(s)
	case fieldFilterState:
		switch s {
		case ChallengeOpen, ChallengeAnswered, ChallengeSlashed, ChallengeVoid:
			q.Filter.State = s
		default:
			err = core.Errorf("wire.ParseQueryPath", core.Invalid, "state %q is not open, answered, slashed or void", s)
		}
	default:
		err = core.Errorf("wire.ParseQueryPath", core.Internal, "query field %d has no parser", f)
	}
	return err
}

// parseAccount takes 64 hex digits only: dev account names are a CLI
// convenience, not part of the wire.
func parseAccount(s string) (core.AccountID, error) {
	var a core.AccountID
	if err := a.UnmarshalText([]byte(s)); err != nil {
		return a, core.Errorf("wire.ParseQueryPath", core.Invalid, "account must be 64 hex digits, got %q", s)
	}
	return a, nil
}

// Path builders, one per route, for the client's methods.

func PathParams() string                   { return Query{Route: RouteParams}.Path() }
func PathStatus() string                   { return Query{Route: RouteStatus}.Path() }
func PathAccount(a core.AccountID) string  { return Query{Route: RouteAccount, Account: a}.Path() }
func PathNonce(a core.AccountID) string    { return Query{Route: RouteNonce, Account: a}.Path() }
func PathProvider(a core.AccountID) string { return Query{Route: RouteProvider, Account: a}.Path() }
func PathProviders() string                { return Query{Route: RouteProviders}.Path() }
func PathProviderAgreements(a core.AccountID) string {
	return Query{Route: RouteProviderAgreements, Account: a}.Path()
}
func PathBucket(b core.BucketID) string { return Query{Route: RouteBucket, Bucket: b}.Path() }
func PathAgreements(b core.BucketID) string {
	return Query{Route: RouteAgreements, Bucket: b}.Path()
}
func PathCheckpoint(b core.BucketID) string {
	return Query{Route: RouteCheckpoint, Bucket: b}.Path()
}
func PathCheckpoints(b core.BucketID) string {
	return Query{Route: RouteCheckpoints, Bucket: b}.Path()
}
func PathEquivocations(b core.BucketID) string {
	return Query{Route: RouteEquivocations, Bucket: b}.Path()
}
func PathChallenge(c core.ChallengeID) string {
	return Query{Route: RouteChallenge, Challenge: c}.Path()
}
func PathChallenges(f ChallengeFilter) string {
	return Query{Route: RouteChallenges, Filter: f}.Path()
}
func PathDrive(d core.DriveID) string        { return Query{Route: RouteDrive, Drive: d}.Path() }
func PathDrives(owner core.AccountID) string { return Query{Route: RouteDrives, Account: owner}.Path() }
func PathValidators() string                 { return Query{Route: RouteValidators}.Path() }
