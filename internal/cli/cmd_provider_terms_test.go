package cli

import (
	"reflect"
	"testing"

	"github.com/spf13/cobra"

	chainwire "github.com/cairn-storage/cairn/chain/wire"
)

// The terms flags of `cairn provider register`: open by default, so a dev
// provider accepts drives at once; each flag sets its term.
func TestProviderRegisterTermsFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want chainwire.ProviderTerms
	}{
		{nil, chainwire.ProviderTerms{Accepting: true}},
		{[]string{"--price", "5", "--max-duration", "900"}, chainwire.ProviderTerms{Accepting: true, PricePerGiBBlock: 5, MaxDuration: 900}},
		{[]string{"--accepting=false"}, chainwire.ProviderTerms{}},
	} {
		var o ProviderRegisterOptions
		cmd := &cobra.Command{Use: "register"}
		o.AddFlags(cmd)
		if err := cmd.ParseFlags(c.args); err != nil {
			t.Fatal(err)
		}
		if got := o.Terms(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: terms %+v, want %+v", c.args, got, c.want)
		}
	}
}
