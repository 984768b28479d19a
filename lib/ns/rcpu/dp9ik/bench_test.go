package dp9ik

import "testing"

// What a connection costs the client: the key from the password
// (PBKDF2, 9001 rounds of HMAC-SHA1, and two Elligator maps), and one
// AuthPAK exchange (two scalar multiplications).

func BenchmarkNewKey(b *testing.B) {
	for b.Loop() {
		NewKey("mon", "vm9", "monitor password")
	}
}

func BenchmarkAuthPAK(b *testing.B) {
	k := NewAuthkey("mon", "monitor password")
	ks := k
	_, y := NewPAK(&ks, false)
	for b.Loop() {
		p, _ := NewPAK(&k, true)
		if err := p.Finish(&k, y[:]); err != nil {
			b.Fatal(err)
		}
	}
}
