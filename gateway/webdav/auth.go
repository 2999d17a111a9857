package webdav

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// BasicAuth lets through only requests with HTTP basic credentials equal
// to user and password (compared in constant time); the rest get 401 with
// a challenge for realm.
func BasicAuth(next http.Handler, realm, user, password string) http.Handler {
	wantU, wantP := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		gotU, gotP := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		okU := subtle.ConstantTimeCompare(gotU[:], wantU[:])
		okP := subtle.ConstantTimeCompare(gotP[:], wantP[:])
		if !ok || okU&okP != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
