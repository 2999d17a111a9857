package wire

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

// sampleQueries holds one query per route with every argument it takes set.
func sampleQueries() []Query {
	a := core.AccountID{0xab, 1}
	return []Query{
		{Route: RouteParams},
		{Route: RouteStatus},
		{Route: RouteAccount, Account: a},
		{Route: RouteNonce, Account: a},
		{Route: RouteProvider, Account: a},
		{Route: RouteProviderAgreements, Account: a},
		{Route: RouteProviders},
		{Route: RouteBucket, Bucket: 7},
		{Route: RouteAgreements, Bucket: 7},
		{Route: RouteCheckpoint, Bucket: 7},
		{Route: RouteCheckpoints, Bucket: 7},
		{Route: RouteEquivocations, Bucket: 7},
		{Route: RouteChallenge, Challenge: 9},
		{Route: RouteChallenges, Filter: ChallengeFilter{Provider: &a, Bucket: 7, State: ChallengeOpen}},
		{Route: RouteChallenges},
		{Route: RouteDrive, Drive: 3},
		{Route: RouteDrives, Account: a},
		{Route: RouteValidators},
	}
}

// What a builder writes, the parser reads back as the same query, for
// every route.
func TestQueryPathRoundTrip(t *testing.T) {
	seen := map[RouteID]bool{}
	for _, q := range sampleQueries() {
		path := q.Path()
		t.Run(path, func(t *testing.T) {
			got, err := ParseQueryPath(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, q) {
				t.Fatalf("parsed %+v, built from %+v", got, q)
			}
		})
		seen[q.Route] = true
	}
	for _, r := range Routes() {
		if !seen[r.ID] {
			t.Errorf("route %s has no sample query", r.Pattern)
		}
	}
}

// The builders keep the paths they always produced.
func TestQueryPathBuilders(t *testing.T) {
	a := core.AccountID{0xab}
	hex := a.String()
	for _, c := range []struct{ got, want string }{
		{PathParams(), "/params"},
		{PathStatus(), "/status"},
		{PathAccount(a), "/account/" + hex},
		{PathNonce(a), "/nonce/" + hex},
		{PathProvider(a), "/provider/" + hex},
		{PathProviderAgreements(a), "/provider/" + hex + "/agreements"},
		{PathProviders(), "/providers"},
		{PathBucket(5), "/bucket/5"},
		{PathAgreements(5), "/bucket/5/agreements"},
		{PathCheckpoint(5), "/bucket/5/checkpoint"},
		{PathCheckpoints(5), "/bucket/5/checkpoints"},
		{PathEquivocations(5), "/bucket/5/equivocations"},
		{PathChallenge(6), "/challenge/6"},
		{PathChallenges(ChallengeFilter{}), "/challenges"},
		{PathChallenges(ChallengeFilter{Provider: &a, Bucket: 5, State: ChallengeVoid}), "/challenges?bucket=5&provider=" + hex + "&state=void"},
		{PathDrive(8), "/drive/8"},
		{PathDrives(a), "/drives?owner=" + hex},
		{PathValidators(), "/validators"},
	} {
		if c.got != c.want {
			t.Errorf("built %q, want %q", c.got, c.want)
		}
	}
	if p := (Query{}).Path(); p != "" {
		t.Errorf("a query of no route built %q", p)
	}
}

// The table itself: ids in order, one parameter segment at most and only
// where the route fills one, no two routes of one shape.
func TestRouteTable(t *testing.T) {
	shapes := map[string]RouteID{}
	for i, r := range Routes() {
		if r.ID != RouteID(i+1) {
			t.Errorf("%s: id %d at position %d", r.Pattern, r.ID, i+1)
		}
		if got, ok := RouteOf(r.ID); !ok || got.Pattern != r.Pattern {
			t.Errorf("RouteOf(%d) = %q", r.ID, got.Pattern)
		}
		params := 0
		var shape []string
		for _, s := range segments(r.Pattern) {
			if isParam(s) {
				params++
				s = "{}"
			}
			shape = append(shape, s)
		}
		if params > 1 || (params == 1) != (r.seg != fieldNone) {
			t.Errorf("%s: %d parameter segments, fills field %d", r.Pattern, params, r.seg)
		}
		if prev, ok := shapes[strings.Join(shape, "/")]; ok {
			t.Errorf("%s has the shape of route %d", r.Pattern, prev)
		}
		shapes[strings.Join(shape, "/")] = r.ID
		if r.Answer == nil || r.Doc == "" {
			t.Errorf("%s: no answer type or doc", r.Pattern)
		}
	}
	for _, id := range []RouteID{0, RouteValidators + 1} {
		if _, ok := RouteOf(id); ok {
			t.Errorf("RouteOf(%d) found a route", id)
		}
	}
}

// docs/api.md lists exactly the table's routes, in its order, with its
// query parameters, so a route cannot be added to one side only.
func TestQueryRoutesDocumented(t *testing.T) {
	f, err := os.Open("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var documented []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### Queries"):
			in = true
		case in && strings.HasPrefix(line, "###"):
			in = false
		case in && strings.HasPrefix(line, "| `/"):
			path, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			documented = append(documented, docShape(path))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, r := range Routes() {
		s := r.Pattern
		var names []string
		for _, p := range r.Params {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			s += "?" + strings.Join(names, "&")
		}
		table = append(table, s)
	}
	if !reflect.DeepEqual(documented, table) {
		t.Fatalf("docs/api.md lists\n%s\nthe route table has\n%s", strings.Join(documented, "\n"), strings.Join(table, "\n"))
	}
}

// docShape drops the example values of a documented path's query
// parameters: "/drives?owner=hex" is "/drives?owner".
func docShape(path string) string {
	p, q, ok := strings.Cut(path, "?")
	if !ok {
		return p
	}
	var names []string
	for _, kv := range strings.Split(q, "&") {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return p + "?" + strings.Join(names, "&")
}

// Refusals keep their kinds: no route's shape is NotFound, a malformed
// argument on one Invalid.
func TestParseQueryPathKinds(t *testing.T) {
	hex := core.AccountID{1}.String()
	for _, c := range []struct {
		path string
		want core.Kind
	}{
		{"", core.NotFound},
		{"/", core.NotFound},
		{"/nope", core.NotFound},
		{"/bucket", core.NotFound},
		{"/bucket/1/nope", core.NotFound},
		{"/account/" + hex + "/more", core.NotFound},
		{"/account/x", core.Invalid},
		{"/account/alice", core.Invalid},
		{"/bucket/0", core.Invalid},
		{"/bucket/x/agreements", core.Invalid},
		{"/challenge/-1", core.Invalid},
		{"/drive/1.5", core.Invalid},
		{"/drives", core.Invalid},
		{"/drives?owner=", core.Invalid},
		{"/challenges?state=weird", core.Invalid},
		{"/challenges?provider=x", core.Invalid},
		{"/challenges?bucket=0", core.Invalid},
		{"/params?%zz", core.Invalid},
	} {
		_, err := ParseQueryPath(c.path)
		if got := core.KindOf(err); got != c.want {
			t.Errorf("%q: kind %v (%v), want %v", c.path, got, err, c.want)
		}
	}
}

// Any path either is refused or parses to a query whose built path parses
// back to the same query.
func FuzzParseQueryPath(f *testing.F) {
	for _, q := range sampleQueries() {
		f.Add(q.Path())
	}
	f.Add("/challenges?state=open&state=void&bucket=3")
	f.Add("//bucket//1/")
	f.Fuzz(func(t *testing.T, path string) {
		q, err := ParseQueryPath(path)
		if err != nil {
			if k := core.KindOf(err); k != core.Invalid && k != core.NotFound {
				t.Fatalf("%q: kind %v", path, k)
			}
			return
		}
		again, err := ParseQueryPath(q.Path())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("%q parsed to %+v; its path %q gives %+v, %v", path, q, q.Path(), again, err)
		}
	})
}
