package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"salonbook/src/core"
)

// Password hashing: argon2id with OWASP's second recommended setting (19 MiB,
// 2 passes, 1 lane), stored as a PHC string that carries its parameters, so a
// later change of them still verifies old hashes.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// Password length bounds, in characters; the upper one keeps a login request
// from buying a long hash.
const (
	MinPassword = 10
	MaxPassword = 256
)

// hashing bounds the hashes computed at once (each takes argonMemory): a burst
// of logins waits its turn (a bounded wait: desk.checkPassword) instead of
// taking the server's memory. It is the desk's default Config.Hashing.
var hashing = make(chan struct{}, 4)

// HashPassword returns the argon2id hash of password, for `salonbook passwd`.
// EInvalid when the password is shorter than MinPassword or longer than
// MaxPassword characters.
func HashPassword(password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < MinPassword || n > MaxPassword {
		return "", core.Errorf(core.EInvalid, "request.invalid",
			"desk: a password has %d to %d characters, this one %d", MinPassword, MaxPassword, n)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("desk: salt: %w", err)
	}
	hashing <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashing
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is verified against when a login is unknown or has no password, so
// that such a login costs what a wrong password costs.
var dummyHash = func() string {
	h, err := HashPassword("not a password of anyone")
	if err != nil {
		panic(err)
	}
	return h
}()

// verifyPassword reports whether password matches encoded, an argon2id PHC
// string. A malformed or empty encoded is verified against dummyHash and fails.
// The caller holds a hashing slot (desk.checkPassword).
func verifyPassword(encoded, password string) bool {
	if len(password) > 4*MaxPassword {
		password = password[:4*MaxPassword]
	}
	salt, want, m, t, p, ok := parseHash(encoded)
	if !ok {
		salt, want, m, t, p, _ = parseHash(dummyHash)
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && ok
}

func parseHash(encoded string) (salt, key []byte, m, t uint32, p uint8, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return nil, nil, 0, 0, 0, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return nil, nil, 0, 0, 0, false
	}
	// Bounds: a hash in the table must not make a login take the server down.
	if m < 8 || m > 256*1024 || t < 1 || t > 10 || p < 1 || p > 8 {
		return nil, nil, 0, 0, 0, false
	}
	b64 := base64.RawStdEncoding
	var err error
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return nil, nil, 0, 0, 0, false
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return nil, nil, 0, 0, 0, false
	}
	return salt, key, m, t, p, true
}
