package dp9ik

import (
	"crypto/subtle"
	"sync"

	"github.com/cloudflare/circl/math/fp448"
)

// The curve arithmetic of AuthPAK, as libauthsrv's ed448.mp, edwards.mp,
// decaf.mp, elligator2.mp and spake2ee.mp define it: the Edwards curve
// x²+y² = 1-39081x²y² over GF(2^448-2^224-1), points in extended
// coordinates (X:Y:Z:T), Mike Hamburg's original decaf encoding, and
// Elligator 2. The field is circl's constant-time fp448; every branch of
// the reference that depends on a secret is a conditional move here.
// fp448 elements are little-endian, 9front's wire form big-endian.

type elt = fp448.Elt

// point is a curve point in extended coordinates.
type point struct{ X, Y, Z, T elt }

const (
	a = 1      // the curve's a
	d = -39081 // the curve's d
)

var (
	feOne  = fp448.One()
	feD    = small(d)
	feAmD  = small(a - d)   // a-d
	feAm2D = small(a - 2*d) // a-2d
	fe4D   = small(4 * d)

	// The base point's affine coordinates, from ed448.mp.
	baseX = mustBE("297ea0ea2692ff1b4faff46098453a6a26adf733245f065c3c59d0709cecfa96147eaaf3932d94c63d96c170033f4ba0c7f0de840aed939f")
	baseY = small(19)
)

// nonSquare is the least non-square mod p, Elligator's n (spake2ee_h2P).
var nonSquare = sync.OnceValue(func() elt {
	for n := int64(2); ; n++ {
		x := small(n)
		if legendre(&x) == -1 {
			return x
		}
	}
})

// small returns v mod p.
func small(v int64) elt {
	var x elt
	u := v
	if u < 0 {
		u = -u
	}
	for i := 0; i < 8; i++ {
		x[i] = byte(u >> (8 * i))
	}
	if v < 0 {
		fp448.Neg(&x, &x)
	}
	return x
}

// mustBE decodes a big-endian hexadecimal constant.
func mustBE(h string) elt {
	var b [fp448.Size]byte
	if len(h) != 2*len(b) {
		panic("dp9ik: bad constant")
	}
	for i := range b {
		b[i] = unhex(h[2*i])<<4 | unhex(h[2*i+1])
	}
	return fromBE(b[:])
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	panic("dp9ik: bad constant")
}

// fromBE reads 56 big-endian bytes, reducing mod p.
func fromBE(b []byte) elt {
	var x elt
	for i := range x {
		x[i] = b[len(x)-1-i]
	}
	fp448.Modp(&x)
	return x
}

// toBE writes x's canonical value as 56 big-endian bytes.
func toBE(dst []byte, x *elt) {
	var le [fp448.Size]byte
	fp448.ToBytes(le[:], x)
	for i := range le {
		dst[len(le)-1-i] = le[i]
	}
}

// isZero is 1 when x is 0 mod p, else 0, in constant time.
func isZero(x *elt) int {
	var b, zero [fp448.Size]byte
	fp448.ToBytes(b[:], x)
	return subtle.ConstantTimeCompare(b[:], zero[:])
}

// isNeg is 1 when x, reduced, is above (p-1)/2: then 2x mod p is 2x-p,
// which is odd.
func isNeg(x *elt) int {
	var t elt
	var b [fp448.Size]byte
	fp448.Add(&t, x, x)
	fp448.ToBytes(b[:], &t)
	return int(b[0] & 1)
}

// negIf sets x to -x when cond is 1.
func negIf(x *elt, cond int) {
	var n elt
	fp448.Neg(&n, x)
	fp448.Cmov(x, &n, uint(cond))
}

// pow sets z to x^e for a public exponent e given as its bits, most
// significant first: a fixed sequence of squarings and multiplications.
func pow(z, x *elt, bits func(i int) bool, n int) {
	r := feOne
	for i := n - 1; i >= 0; i-- {
		fp448.Sqr(&r, &r)
		if bits(i) {
			fp448.Mul(&r, &r, x)
		}
	}
	*z = r
}

// misqrt sets z to x^((p-3)/4) (misqrt in msqrt.mp): 1/√x when x is a
// non-zero square. (p-3)/4 = 2^446-2^222-1: bits 0 to 445 but 222.
func misqrt(z, x *elt) {
	pow(z, x, func(i int) bool { return i != 222 }, 446)
}

// isSquareInv reports, given r = misqrt(x), whether x is a square or 0
// (x·r² is x^((p-1)/2), Euler's criterion), in constant time.
func isSquareInv(x, r *elt) int {
	var t elt
	fp448.Sqr(&t, r)
	fp448.Mul(&t, &t, x)
	fp448.Sub(&t, &t, &feOne)
	return isZero(&t) | isZero(x)
}

// legendre is 1, -1 or 0 as x is a non-zero square, a non-square or 0.
// Used on public constants only.
func legendre(x *elt) int {
	var r elt
	misqrt(&r, x)
	switch {
	case isZero(x) == 1:
		return 0
	case isSquareInv(x, &r) == 1:
		return 1
	}
	return -1
}

// identity is the neutral point (0:1:1:0).
func identity() point { return point{Y: feOne, Z: feOne} }

// add sets r to p+q (edwards_add): complete for this curve, so it
// doubles too.
func add(r, p, q *point) {
	var A, B, C, D, E, F, G, H, t elt
	fp448.Mul(&A, &p.X, &q.X)
	fp448.Mul(&B, &p.Y, &q.Y)
	fp448.Mul(&C, &p.T, &q.T)
	fp448.Mul(&C, &C, &feD)
	fp448.Mul(&D, &p.Z, &q.Z)
	fp448.Add(&E, &p.X, &p.Y)
	fp448.Add(&t, &q.X, &q.Y)
	fp448.Mul(&E, &E, &t)
	fp448.Sub(&E, &E, &A)
	fp448.Sub(&E, &E, &B)
	fp448.Sub(&F, &D, &C)
	fp448.Add(&G, &D, &C)
	fp448.Sub(&H, &B, &A) // a = 1
	fp448.Mul(&r.X, &E, &F)
	fp448.Mul(&r.Y, &G, &H)
	fp448.Mul(&r.Z, &F, &G)
	fp448.Mul(&r.T, &E, &H)
}

// cmov sets r to q when cond is 1.
func (r *point) cmov(q *point, cond int) {
	fp448.Cmov(&r.X, &q.X, uint(cond))
	fp448.Cmov(&r.Y, &q.Y, uint(cond))
	fp448.Cmov(&r.Z, &q.Z, uint(cond))
	fp448.Cmov(&r.T, &q.T, uint(cond))
}

// neg returns -p.
func (p *point) neg() point {
	n := *p
	fp448.Neg(&n.X, &p.X)
	fp448.Neg(&n.T, &p.T)
	return n
}

// scale sets r to s·p for a 448-bit big-endian scalar s (edwards_scale):
// double and add always, the sum kept or not by a conditional move.
func scale(r *point, s []byte, p *point) {
	bit := func(i int) int { return int(s[len(s)-1-i/8]>>(i%8)) & 1 }
	q := *p
	acc := identity()
	acc.cmov(&q, bit(0))
	var sum point
	for i := 1; i < 8*len(s); i++ {
		add(&q, &q, &q)
		add(&sum, &q, &acc)
		acc.cmov(&sum, bit(i))
	}
	*r = acc
}

// base returns the curve's base point (GX:GY:1:GX·GY).
func base() point {
	p := point{X: baseX, Y: baseY, Z: feOne}
	fp448.Mul(&p.T, &p.X, &p.Y)
	return p
}

// encode returns the decaf encoding of p (decaf_encode), 56 bytes.
func encode(dst []byte, p *point) {
	var r, u, t, s elt
	fp448.Add(&t, &p.Z, &p.Y)
	fp448.Sub(&u, &p.Z, &p.Y)
	fp448.Mul(&t, &t, &u)
	fp448.Mul(&t, &t, &feAmD)
	misqrt(&r, &t)
	fp448.Mul(&u, &feAmD, &r)
	// r = -r when -2uZ is negative
	fp448.Mul(&t, &u, &p.Z)
	fp448.Add(&t, &t, &t)
	fp448.Neg(&t, &t)
	negIf(&r, isNeg(&t))
	// s = u(r(aZX - dYT) + Y)/a, a = 1
	var zx, yt elt
	fp448.Mul(&zx, &p.Z, &p.X)
	fp448.Mul(&yt, &p.Y, &p.T)
	fp448.Mul(&yt, &yt, &feD)
	fp448.Sub(&t, &zx, &yt)
	fp448.Mul(&t, &t, &r)
	fp448.Add(&t, &t, &p.Y)
	fp448.Mul(&s, &u, &t)
	negIf(&s, isNeg(&s))
	toBE(dst, &s)
}

// halfP is (p-1)/2, big-endian: decode refuses any larger s.
var halfP = func() [fp448.Size]byte {
	var b [fp448.Size]byte
	for i := range b {
		b[i] = 0xff
	}
	b[0] = 0x7f  // 2^447-2^223-1: bit 447 clear,
	b[28] = 0x7f // and bit 223
	return b
}()

// decode returns the point a decaf encoding names (decaf_decode), and
// whether it names one. The input is public.
func decode(b []byte) (point, bool) {
	if len(b) != fp448.Size || greater(b, halfP[:]) {
		return point{}, false
	}
	s := fromBE(b)
	var ss, Z, u, v, t, w elt
	fp448.Sqr(&ss, &s)
	fp448.Add(&Z, &feOne, &ss) // a = 1
	fp448.Sqr(&u, &Z)
	fp448.Mul(&t, &fe4D, &ss)
	fp448.Sub(&u, &u, &t)
	fp448.Mul(&v, &u, &ss)
	// v = 1/√v, or 0 when v is 0; no point when v is not a square.
	var r elt
	misqrt(&r, &v)
	if isSquareInv(&v, &r) == 0 {
		return point{}, false
	}
	v = r
	fp448.Mul(&t, &u, &v)
	negIf(&v, isNeg(&t))
	two := small(2)
	fp448.Sub(&t, &two, &Z)
	fp448.Mul(&w, &v, &s)
	fp448.Mul(&w, &w, &t)
	var w1 elt
	fp448.Add(&w1, &w, &feOne)
	fp448.Cmov(&w, &w1, uint(isZero(&s)))
	var p point
	fp448.Add(&p.X, &s, &s)
	fp448.Mul(&p.Y, &w, &Z)
	p.Z = Z
	fp448.Mul(&p.T, &w, &p.X)
	return p, true
}

// greater reports whether big-endian x > y, both of one length.
func greater(x, y []byte) bool {
	for i := range x {
		if x[i] != y[i] {
			return x[i] > y[i]
		}
	}
	return false
}

// elligator maps r0 to a curve point (elligator2 with spake2ee_h2P's
// non-square n).
func elligator(r0 *elt) point {
	n := nonSquare()
	var r, D, t, N, ND elt
	fp448.Sqr(&r, r0)
	fp448.Mul(&r, &r, &n)
	// D = (dr+a-d)(dr-ar-d)
	fp448.Mul(&D, &feD, &r)
	fp448.Add(&t, &D, &feAmD)
	fp448.Sub(&D, &D, &r) // a = 1
	fp448.Sub(&D, &D, &feD)
	fp448.Mul(&D, &D, &t)
	// N = (r+1)(a-2d)
	fp448.Add(&N, &r, &feOne)
	fp448.Mul(&N, &N, &feAm2D)
	fp448.Mul(&ND, &N, &D)
	// e = 1/√ND and c = 1 when ND is a square (or 0, then e = 0),
	// else e = n·r0/√(n·ND) and c = -1.
	var e, e2, nND elt
	misqrt(&e, &ND)
	sq := isSquareInv(&ND, &e)
	fp448.Mul(&nND, &n, &ND)
	misqrt(&e2, &nND)
	fp448.Mul(&e2, &e2, r0)
	fp448.Mul(&e2, &e2, &n)
	fp448.Cmov(&e, &e2, uint(1-sq))
	c := feOne
	negIf(&c, 1-sq)
	// s = cNe
	var s elt
	fp448.Mul(&s, &c, &N)
	fp448.Mul(&s, &s, &e)
	// t = -cN(r-1)((a-2d)e)² - 1
	var tt, u elt
	fp448.Mul(&u, &feAm2D, &e)
	fp448.Sqr(&u, &u)
	fp448.Sub(&tt, &r, &feOne)
	fp448.Mul(&tt, &tt, &N)
	fp448.Mul(&tt, &tt, &c)
	fp448.Mul(&tt, &tt, &u)
	fp448.Neg(&tt, &tt)
	fp448.Sub(&tt, &tt, &feOne)
	// X = 2st, Y = (1-as²)(1+as²), Z = (1+as²)t, T = 2s(1-as²)
	var s2, s22, m, pl elt
	fp448.Add(&s2, &s, &s)
	fp448.Sqr(&s22, &s)
	fp448.Sub(&m, &feOne, &s22)
	fp448.Add(&pl, &feOne, &s22)
	var p point
	fp448.Mul(&p.X, &s2, &tt)
	fp448.Mul(&p.Y, &m, &pl)
	fp448.Mul(&p.Z, &pl, &tt)
	fp448.Mul(&p.T, &s2, &m)
	return p
}
