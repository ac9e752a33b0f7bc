#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_test.h"

void at_mkdtemp(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/sshrpc-auth-XXXXXX");
	cr_assert_not_null(mkdtemp(out), "mkdtemp");
}

void at_rmdir(const char *dir)
{
	if (strncmp(dir, "/tmp/sshrpc-auth-", 17) == 0)
		at_run("rm -rf '%s'", dir);
}

int at_run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

uint8_t *at_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap + 1);
	size_t r;
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap + 1);
		}
	}
	fclose(f);
	b[n] = 0;
	*len = n;
	return b;
}

void at_write(const char *path, const void *data, size_t len, unsigned mode)
{
	unlink(path);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "open %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(path, mode);
}

void at_log(void *ud, int level, const char *msg)
{
	(void)level;
	at_logbuf *lb = ud;
	size_t used = strlen(lb->text);
	snprintf(lb->text + used, sizeof lb->text - used, "%s\n", msg);
	lb->lines++;
}

sshrpc_key *at_load_pub(const char *path)
{
	size_t len;
	uint8_t *d = at_read(path, &len);
	cr_assert_not_null(d, "read %s", path);
	sshrpc_key *k = NULL;
	sshrpc_err err;
	sshrpc_err_clear(&err);
	int rc = sshrpc_pubkey_parse(NULL, path, d, len, &k, NULL, 0, &err);
	cr_assert_eq(rc, SSHRPC_OK, "%s: %s", path, err.msg);
	free(d);
	return k;
}
