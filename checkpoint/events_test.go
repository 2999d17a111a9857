package checkpoint

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-storage/cairn/core"
)

func TestEventJSONOmitsMissingProvider(t *testing.T) {
	b, err := json.Marshal(Event{Kind: EventPaused, Reason: "x"})
	if err != nil || strings.Contains(string(b), "provider") || !strings.Contains(string(b), `"kind":"loop.paused"`) {
		t.Fatalf("%s %v", b, err)
	}
	p := core.AccountID{1}
	b, _ = json.Marshal(Event{Kind: EventAuditFailed, Provider: p})
	if !strings.Contains(string(b), `"provider":"`+p.String()+`"`) {
		t.Fatalf("provider missing: %s", b)
	}
}
