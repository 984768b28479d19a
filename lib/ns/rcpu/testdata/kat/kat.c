/*
 * Known answers for lib/ns/rcpu: run inside a 9front guest, compiled
 * with the guest's own 6c against its libauthsrv, libsec and libmp.
 * tlshand.c is included for its static TLS 1.2 PRF and PSK master
 * secret. Every line is "name hex"; see README in this directory.
 */
#include "/sys/src/libsec/port/tlshand.c"
#include <authsrv.h>

static void
out(char *name, void *p, int n)
{
	print("%s %.*H\n", name, n, p);
}

static void
fill(uchar *p, int n, int start)
{
	int i;

	for(i = 0; i < n; i++)
		p[i] = start + i;
}

static void
pak(char *tag, char *user, char *pw)
{
	Authkey kc, ks;
	PAKpriv pc, ps;
	uchar yc[PAKYLEN], ys[PAKYLEN], bad[PAKYLEN];
	char buf[MAXTICKETLEN+MAXAUTHENTLEN], name[64];
	Ticket t;
	Authenticator a;
	int n;

	print("set %s\n", tag);
	print("user %s\n", user);
	print("password %s\n", pw);
	passtokey(&kc, pw);
	out("aes", kc.aes, AESKEYLEN);
	authpak_hash(&kc, user);
	out("pakhash", kc.pakhash, PAKHASHLEN);
	ks = kc;

	/* client side and auth server side */
	authpak_new(&pc, &kc, yc, 1);
	out("xc", pc.x, PAKXLEN);
	out("yc", yc, PAKYLEN);
	authpak_new(&ps, &ks, ys, 0);
	out("xs", ps.x, PAKXLEN);
	out("ys", ys, PAKYLEN);
	if(authpak_finish(&pc, &kc, ys) < 0 || authpak_finish(&ps, &ks, yc) < 0)
		sysfatal("authpak_finish failed");
	out("pakkey", kc.pakkey, PAKKEYLEN);
	if(memcmp(kc.pakkey, ks.pakkey, PAKKEYLEN) != 0)
		sysfatal("pak keys differ");

	/* an encoding above (p-1)/2 is refused */
	memset(bad, 0xff, sizeof bad);
	authpak_new(&pc, &kc, yc, 1);
	print("finish-ff %d\n", authpak_finish(&pc, &kc, bad));

	/* a ticket and an authenticator, form 1: counters 0 and 1 */
	memset(&t, 0, sizeof t);
	t.num = AuthTc;
	fill((uchar*)t.chal, CHALLEN, 1);
	snprint(name, sizeof name, "%s", user);
	strecpy(t.cuid, t.cuid+ANAMELEN, name);
	strecpy(t.suid, t.suid+ANAMELEN, name);
	fill(t.key, NONCELEN, 0x20);
	t.form = 1;
	n = convT2M(&t, buf, sizeof buf, &kc);
	out("ticket", buf, n);
	memset(&a, 0, sizeof a);
	a.num = AuthAc;
	fill((uchar*)a.chal, CHALLEN, 1);
	fill(a.rand, NONCELEN, 0x40);
	n = convA2M(&a, buf, sizeof buf, &t);
	out("authenticator", buf, n);
}

void
main(void)
{
	uchar rand[2*NONCELEN], key[NONCELEN], secret[256];
	uchar prf[100], seed[64], psk[256];
	TlsSec sec;
	Bytes *pm;

	fmtinstall('H', encodefmt);

	pak("short", "glenda", "kat-password-1");
	pak("long", "monitoring-user-0123456789a", "a password longer than twenty-eight bytes, which AES keys use whole");

	/* dp9ik session secret: HKDF-SHA256(RNc|RNs, Kn) */
	print("set hkdf\n");
	fill(rand, sizeof rand, 0x40);
	fill(key, sizeof key, 0x20);
	hkdf_x(rand, sizeof rand, (uchar*)"Plan 9 session secret", 21,
		key, sizeof key, secret, sizeof secret, hmac_sha2_256, SHA2_256dlen);
	out("secret", secret, sizeof secret);

	/* TLS 1.2 PRF, and the PSK master secret as tlshand makes it */
	print("set prf\n");
	fill(seed, sizeof seed, 0x80);
	fill(psk, sizeof psk, 0x10);
	tls12PRF(prf, sizeof prf, psk, 48, "key expansion", seed, sizeof seed);
	out("prf", prf, sizeof prf);
	memset(&sec, 0, sizeof sec);
	tlsSecVers(&sec, TLS12Version);
	memmove(sec.crandom, seed, RandomSize);
	memmove(sec.srandom, seed+RandomSize, RandomSize);
	sec.psk = psk;
	sec.psklen = sizeof psk;
	pm = newbytes(sizeof psk);
	setMasterSecret(&sec, pm);
	out("master", sec.sec, MasterSecretSize);
	exits(nil);
}
