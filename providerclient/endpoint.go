package providerclient

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/cairn-storage/cairn/core"
)

// BaseURL turns a provider endpoint as registered on chain into the HTTP
// base URL of its API (scheme://host:port, no trailing slash). It accepts
//
//   - a URL: http://host[:port][/prefix] or https://...;
//   - a multiaddr: /ip4/H/tcp/P/http, /ip6/H/tcp/P/http, /dns/H/..., /dns4/H/...,
//     /dns6/H/..., ending in /http, /https or /tls/http (both meaning https);
//   - host:port, taken as http.
func BaseURL(endpoint string) (string, error) {
	const op = "providerclient.BaseURL"
	e := strings.TrimSpace(endpoint)
	switch {
	case e == "":
		return "", core.Errorf(op, core.Invalid, "empty endpoint")
	case strings.HasPrefix(e, "/"):
		return fromMultiaddr(op, e)
	case strings.Contains(e, "://"):
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !validHost(u.Hostname()) || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return "", core.Errorf(op, core.Invalid, "endpoint %q is not an http(s) URL with a host", endpoint)
		}
		if err := checkPort(op, u.Port()); err != nil {
			return "", err
		}
		return u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"), nil
	default:
		host, port, err := net.SplitHostPort(e)
		if err != nil || !validHost(host) || port == "" {
			return "", core.Errorf(op, core.Invalid, "endpoint %q is neither a URL, a multiaddr nor host:port", endpoint)
		}
		if err := checkPort(op, port); err != nil {
			return "", err
		}
		return "http://" + net.JoinHostPort(host, port), nil
	}
}

func fromMultiaddr(op, m string) (string, error) {
	parts := strings.Split(strings.TrimSuffix(m[1:], "/"), "/")
	bad := func(why string) (string, error) {
		return "", core.Errorf(op, core.Invalid, "multiaddr %q: %s", m, why)
	}
	if len(parts) < 5 {
		return bad("want /<ip4|ip6|dns|dns4|dns6>/<host>/tcp/<port>/<http|https|tls/http>")
	}
	proto, host := parts[0], parts[1]
	switch proto {
	case "ip4":
		if ip := net.ParseIP(host); ip == nil || ip.To4() == nil {
			return bad("bad IPv4 address")
		}
	case "ip6":
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil || strings.Contains(host, "%") {
			return bad("bad IPv6 address")
		}
	case "dns", "dns4", "dns6":
		if !validHost(host) || net.ParseIP(host) != nil {
			return bad("bad host name")
		}
	default:
		return bad("unknown address protocol " + proto)
	}
	if parts[2] != "tcp" {
		return bad("want tcp after the host")
	}
	if err := checkPort(op, parts[3]); err != nil || parts[3] == "" {
		return bad("bad port")
	}
	var scheme string
	switch strings.Join(parts[4:], "/") {
	case "http":
		scheme = "http"
	case "https", "tls/http":
		scheme = "https"
	default:
		return bad("want /http, /https or /tls/http at the end")
	}
	return scheme + "://" + net.JoinHostPort(host, parts[3]), nil
}

func checkPort(op, p string) error {
	if p == "" {
		return nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 || strings.HasPrefix(p, "+") {
		return core.Errorf(op, core.Invalid, "bad port %q", p)
	}
	return nil
}

// validHost accepts an IP address or a DNS name (letters, digits, '-', '.').
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return !strings.Contains(h, "%")
	}
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
