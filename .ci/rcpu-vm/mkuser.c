/*
 * mkuser user password: add a user to keyfs (/mnt/keys) with the keys
 * the guest's own passtokey derives, as auth/changeuser would after
 * prompting. mkuser -n user password domain: write the host owner's key
 * to the nvram file $nvram, as auth/wrkey would. Both of those read the
 * password from /dev/cons, which a batch guest cannot type into.
 */
#include <u.h>
#include <libc.h>
#include <authsrv.h>

static void
put(char *user, char *file, void *p, int n)
{
	char path[128];
	int fd;

	snprint(path, sizeof path, "/mnt/keys/%s/%s", user, file);
	if((fd = open(path, OWRITE)) < 0 || write(fd, p, n) != n)
		sysfatal("%s: %r", path);
	close(fd);
}

void
main(int argc, char **argv)
{
	Authkey k;
	char path[128];
	int fd;

	if(argc == 5 && strcmp(argv[1], "-n") == 0){
		Nvrsafe safe;

		memset(&safe, 0, sizeof safe);
		passtokey(&k, argv[3]);
		memmove(safe.machkey, k.des, DESKEYLEN);
		memmove(safe.aesmachkey, k.aes, AESKEYLEN);
		strecpy(safe.authid, safe.authid+sizeof safe.authid, argv[2]);
		strecpy(safe.authdom, safe.authdom+sizeof safe.authdom, argv[4]);
		if(readnvram(&safe, NVwritemem) < 0)
			sysfatal("writing nvram: %r");
		exits(nil);
	}
	if(argc != 3)
		sysfatal("usage: mkuser user password, or mkuser -n user password domain");
	snprint(path, sizeof path, "/mnt/keys/%s", argv[1]);
	if((fd = create(path, OREAD, DMDIR|0775)) < 0)
		sysfatal("create %s: %r", path);
	close(fd);
	passtokey(&k, argv[2]);
	put(argv[1], "key", k.des, DESKEYLEN);
	put(argv[1], "aeskey", k.aes, AESKEYLEN);
	exits(nil);
}
