package dp9ik

import (
	"bytes"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/internal/kat"
)

// The known answers were printed by libauthsrv and libsec in a 9front
// guest (testdata/kat/README.md).

func TestKnownAnswersAuthPAK(t *testing.T) {
	for _, name := range []string{"short", "long"} {
		s := kat.Load(t)[name]
		t.Run(name, func(t *testing.T) {
			k := PassToKey(s["password"])
			if want := s.Bytes(t, "aes"); !bytes.Equal(k.AES[:], want) {
				t.Fatalf("passtokey: AES key %x, want %x", k.AES, want)
			}
			k.Hash(s["user"])
			if want := s.Bytes(t, "pakhash"); !bytes.Equal(k.PakHash[:], want) {
				t.Fatalf("authpak_hash:\n got %x\nwant %x", k.PakHash, want)
			}
			kc, ks := k, k
			pc, yc := newPAK(&kc, true, [PAKSLen]byte(s.Bytes(t, "xc")))
			ps, ys := newPAK(&ks, false, [PAKSLen]byte(s.Bytes(t, "xs")))
			if want := s.Bytes(t, "yc"); !bytes.Equal(yc[:], want) {
				t.Fatalf("authpak_new client: y %x, want %x", yc, want)
			}
			if want := s.Bytes(t, "ys"); !bytes.Equal(ys[:], want) {
				t.Fatalf("authpak_new server: y %x, want %x", ys, want)
			}
			if err := pc.Finish(&kc, ys[:]); err != nil {
				t.Fatal(err)
			}
			if err := ps.Finish(&ks, yc[:]); err != nil {
				t.Fatal(err)
			}
			want := s.Bytes(t, "pakkey")
			if !bytes.Equal(kc.PakKey[:], want) || !bytes.Equal(ks.PakKey[:], want) {
				t.Fatalf("authpak_finish: keys %x and %x, want %x", kc.PakKey, ks.PakKey, want)
			}
			if s["finish-ff"] != "-1" {
				t.Fatalf("known answers: finish-ff %q", s["finish-ff"])
			}
			p, _ := NewPAK(&kc, true)
			if err := p.Finish(&kc, bytes.Repeat([]byte{0xff}, PAKYLen)); err != ErrPAK {
				t.Fatalf("Finish(ff…) = %v, want ErrPAK as authpak_finish's -1", err)
			}
		})
	}
}

func TestKnownAnswersForm1(t *testing.T) {
	for _, name := range []string{"short", "long"} {
		s := kat.Load(t)[name]
		t.Run(name, func(t *testing.T) {
			key := [32]byte(s.Bytes(t, "pakkey"))
			sealed := s.Bytes(t, "ticket")
			tk, err := OpenTicket(sealed, &key)
			if err != nil {
				t.Fatal(err)
			}
			want := Ticket{Num: AuthTc, Chal: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, CUID: s["user"], SUID: s["user"]}
			for i := range want.Key {
				want.Key[i] = 0x20 + byte(i)
			}
			if tk != want {
				t.Fatalf("convM2T: %+v, want %+v", tk, want)
			}
			// Sealing again with the counter 9front used gives its bytes.
			plain := append([]byte{tk.Num}, tk.Chal[:]...)
			plain = appendName(appendName(plain, tk.CUID, ANameLen), tk.SUID, ANameLen)
			plain = append(plain, tk.Key[:]...)
			count := uint32(sealed[8]) | uint32(sealed[9])<<8
			if got := form1SealCount(plain, &key, count); !bytes.Equal(got, sealed) {
				t.Fatalf("convT2M:\n got %x\nwant %x", got, sealed)
			}

			sealed = s.Bytes(t, "authenticator")
			a, err := OpenAuthenticator(sealed, &tk.Key)
			if err != nil {
				t.Fatal(err)
			}
			wa := Authenticator{Num: AuthAc, Chal: want.Chal}
			for i := range wa.Rand {
				wa.Rand[i] = 0x40 + byte(i)
			}
			if a != wa {
				t.Fatalf("convM2A: %+v, want %+v", a, wa)
			}
			plain = append(append([]byte{a.Num}, a.Chal[:]...), a.Rand[:]...)
			count = uint32(sealed[8]) | uint32(sealed[9])<<8
			if got := form1SealCount(plain, &tk.Key, count); !bytes.Equal(got, sealed) {
				t.Fatalf("convA2M:\n got %x\nwant %x", got, sealed)
			}

			// One changed byte anywhere and it no longer opens.
			for i := range sealed {
				bad := bytes.Clone(sealed)
				bad[i] ^= 0x01
				if _, err := OpenAuthenticator(bad, &tk.Key); err == nil {
					t.Fatalf("authenticator with byte %d changed opened", i)
				}
			}
		})
	}
}

func TestKnownAnswerSessionSecret(t *testing.T) {
	s := kat.Load(t)["hkdf"]
	var rnd [64]byte
	var key [32]byte
	for i := range rnd {
		rnd[i] = 0x40 + byte(i)
	}
	for i := range key {
		key[i] = 0x20 + byte(i)
	}
	got := SessionSecret(&key, (*[32]byte)(rnd[:32]), (*[32]byte)(rnd[32:]))
	if want := s.Bytes(t, "secret"); !bytes.Equal(got, want) {
		t.Fatalf("session secret:\n got %x\nwant %x", got, want)
	}
}
