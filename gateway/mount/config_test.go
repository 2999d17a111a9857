package mount

import (
	"testing"
	"time"

	"github.com/cairn-storage/cairn/core"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		tune func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"no caching", func(c *Config) { c.EntryTimeout, c.AttrTimeout = 0, 0 }, true},
		{"negative timeout", func(c *Config) { c.AttrTimeout = -time.Second }, false},
		{"requests too small", func(c *Config) { c.MaxWrite = 1024 }, false},
		{"requests too large", func(c *Config) { c.MaxWrite = 2 << 20 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.tune(&c)
			err := c.Validate()
			if (err == nil) != tc.ok || (err != nil && core.KindOf(err) != core.Invalid) {
				t.Errorf("Validate() = %v, want ok %v (else kind invalid)", err, tc.ok)
			}
		})
	}
}
