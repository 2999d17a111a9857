// Package backoff is the one retry loop of Cairn: try an operation, and
// while it fails with a transient error (core.Unavailable) wait a growing
// delay and try again. The clock is injected, so tests step it instead of
// sleeping.
package backoff
