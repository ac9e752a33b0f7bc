/* known_hosts: plain and hashed (ssh-keygen -H) names, [host]:port, several
 * keys per host, @revoked, patterns and negation, StrictHostKeyChecking
 * decisions, and the line "add this host" produces (read back by us and by
 * ssh-keygen -F). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_test.h"

typedef struct fixture {
	char dir[64];
	sshrpc_key *k[4]; /* 0: ed25519, 1: ecdsa, 2: another ed25519, 3: rsa */
	char line[4][800];
} fixture;

static void setup(fixture *f)
{
	static const char *const specs[] = { "-t ed25519", "-t ecdsa", "-t ed25519", "-t rsa -b 2048" };
	at_mkdtemp(f->dir, sizeof f->dir);
	for (int i = 0; i < 4; i++) {
		char path[128], pub[140];
		snprintf(path, sizeof path, "%s/h%d", f->dir, i);
		snprintf(pub, sizeof pub, "%s.pub", path);
		cr_assert_eq(at_run("ssh-keygen -q %s -N '' -f %s", specs[i], path), 0);
		f->k[i] = at_load_pub(pub);
		size_t n;
		uint8_t *d = at_read(pub, &n);
		/* type and base64 only */
		char *sp = strchr(strchr((char *)d, ' ') + 1, ' ');
		if (sp != NULL)
			*sp = 0;
		snprintf(f->line[i], sizeof f->line[i], "%s", (char *)d);
		free(d);
	}
}

static void teardown(fixture *f)
{
	for (int i = 0; i < 4; i++)
		sshrpc_key_free(f->k[i]);
	at_rmdir(f->dir);
}

static sshrpc_known_hosts *parse(const char *text, at_logbuf *lb)
{
	sshrpc_known_hosts *kh = NULL;
	cr_assert_eq(
		sshrpc_known_hosts_parse(NULL, "known_hosts", (const uint8_t *)text, strlen(text), at_log, lb, &kh),
		SSHRPC_OK);
	return kh;
}

Test(known_hosts, plain_entries)
{
	fixture f;
	setup(&f);
	char text[8192];
	snprintf(text, sizeof text,
		"# comment\n"
		"server.example.org,192.0.2.1 %s\n"		 /* 2 */
		"server.example.org %s\n"			 /* 3: a second key, other type */
		"[server.example.org]:2222 %s\n"		 /* 4: another port, another key */
		"*.lab.example.org,!secret.lab.example.org %s\n" /* 5 */
		"@revoked * %s\n"				 /* 6 */
		"@cert-authority *.example.org %s\n"		 /* 7: skipped */
		"garbage\n",					 /* 8: skipped */
		f.line[0], f.line[1], f.line[2], f.line[0], f.line[3], f.line[1]);
	at_logbuf lb = { "", 0 };
	sshrpc_known_hosts *kh = parse(text, &lb);
	cr_assert_eq(lb.lines, 2, "%s", lb.text);
	cr_assert(strstr(lb.text, "known_hosts:7: @cert-authority is not supported") != NULL, "%s", lb.text);
	cr_assert(strstr(lb.text, "known_hosts:8:") != NULL, "%s", lb.text);
	unsigned line;
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 22, f.k[0], &line), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(line, 2);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "SERVER.example.org", 22, f.k[1], &line), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(line, 3);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "192.0.2.1", 22, f.k[0], &line), SSHRPC_HOSTKEY_OK);
	/* Another ed25519 key for the host on port 22: changed. */
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 22, f.k[2], &line), SSHRPC_HOSTKEY_CHANGED);
	cr_assert_eq(line, 2);
	/* Port 2222 has its own entry. */
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 2222, f.k[2], &line), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(line, 4);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 2222, f.k[0], NULL), SSHRPC_HOSTKEY_CHANGED);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 2223, f.k[0], NULL), SSHRPC_HOSTKEY_UNKNOWN);
	/* Patterns and negation. */
	cr_assert_eq(sshrpc_known_hosts_check(kh, "a.lab.example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "secret.lab.example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_UNKNOWN);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "other.example.org", 22, f.k[0], &line), SSHRPC_HOSTKEY_UNKNOWN);
	cr_assert_eq(line, 0);
	/* The revoked RSA key is refused wherever it shows up. */
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 22, f.k[3], &line), SSHRPC_HOSTKEY_REVOKED);
	cr_assert_eq(line, 6);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "new.example.net", 22, f.k[3], NULL), SSHRPC_HOSTKEY_REVOKED);
	sshrpc_known_hosts_free(kh);
	teardown(&f);
}

Test(known_hosts, hashed_by_ssh_keygen)
{
	fixture f;
	setup(&f);
	char path[128], text[8192];
	snprintf(path, sizeof path, "%s/known_hosts", f.dir);
	snprintf(text, sizeof text, "server.example.org %s\n[server.example.org]:2222 %s\n192.0.2.7 %s\n", f.line[0],
		f.line[1], f.line[2]);
	at_write(path, text, strlen(text), 0644);
	cr_assert_eq(at_run("ssh-keygen -q -H -f %s >/dev/null 2>&1", path), 0);
	size_t n;
	uint8_t *d = at_read(path, &n);
	cr_assert(strncmp((char *)d, "|1|", 3) == 0, "hashed: %s", (char *)d);
	cr_assert_null(strstr((char *)d, "server.example.org"));
	at_logbuf lb = { "", 0 };
	sshrpc_known_hosts *kh = NULL;
	cr_assert_eq(sshrpc_known_hosts_parse(NULL, path, d, n, at_log, &lb, &kh), SSHRPC_OK);
	cr_assert_eq(lb.lines, 0, "%s", lb.text);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "Server.Example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 2222, f.k[1], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server.example.org", 22, f.k[2], NULL), SSHRPC_HOSTKEY_CHANGED);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "192.0.2.7", 22, f.k[2], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "server2.example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_UNKNOWN);
	sshrpc_known_hosts_free(kh);
	free(d);
	/* A damaged hash field is a skipped line, not a crash. */
	static const char bad[] =
		"|1|notbase64!|AAAA ssh-ed25519 AAAA\n|2|abc|def ssh-ed25519 AAAA\n|1|QUFB ssh-ed25519 AAAA\n";
	lb = (at_logbuf){ "", 0 };
	kh = parse(bad, &lb);
	cr_assert_eq(lb.lines, 3, "%s", lb.text);
	sshrpc_known_hosts_free(kh);
	teardown(&f);
}

Test(known_hosts, add_line_read_back_and_by_ssh_keygen)
{
	fixture f;
	setup(&f);
	char path[128];
	snprintf(path, sizeof path, "%s/known_hosts", f.dir);
	sshrpc_buf out;
	sshrpc_buf_init(&out, NULL, 0);
	cr_assert_eq(sshrpc_known_hosts_line("plain.example.org", 22, f.k[0], false, &out), SSHRPC_OK);
	cr_assert_eq(sshrpc_known_hosts_line("ported.example.org", 2222, f.k[1], false, &out), SSHRPC_OK);
	cr_assert_eq(sshrpc_known_hosts_line("hashed.example.org", 22, f.k[2], true, &out), SSHRPC_OK);
	cr_assert_eq(sshrpc_known_hosts_line("hashedport.example.org", 2200, f.k[3], true, &out), SSHRPC_OK);
	at_write(path, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), 0644);
	cr_assert(strncmp((char *)sshrpc_buf_ptr(&out), "plain.example.org ssh-ed25519 AAAA", 34) == 0);
	at_logbuf lb = { "", 0 };
	sshrpc_known_hosts *kh = NULL;
	cr_assert_eq(sshrpc_known_hosts_parse(NULL, path, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), at_log, &lb, &kh),
		SSHRPC_OK);
	cr_assert_eq(lb.lines, 0, "%s", lb.text);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "plain.example.org", 22, f.k[0], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "ported.example.org", 2222, f.k[1], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "hashed.example.org", 22, f.k[2], NULL), SSHRPC_HOSTKEY_OK);
	cr_assert_eq(sshrpc_known_hosts_check(kh, "hashedport.example.org", 2200, f.k[3], NULL), SSHRPC_HOSTKEY_OK);
	sshrpc_known_hosts_free(kh);
	/* ssh-keygen -F finds each of them, hashed or not. */
	cr_assert_eq(at_run("ssh-keygen -F plain.example.org -f %s | grep -q ssh-ed25519", path), 0);
	cr_assert_eq(at_run("ssh-keygen -F '[ported.example.org]:2222' -f %s | grep -q ecdsa", path), 0);
	cr_assert_eq(at_run("ssh-keygen -F hashed.example.org -f %s | grep -q ssh-ed25519", path), 0);
	cr_assert_eq(at_run("ssh-keygen -F '[hashedport.example.org]:2200' -f %s | grep -q ssh-rsa", path), 0);
	cr_assert_neq(at_run("ssh-keygen -F nothere.example.org -f %s | grep -q ssh", path), 0);
	sshrpc_buf_free(&out);
	teardown(&f);
}

Test(known_hosts, strict_host_key_checking)
{
	static const struct {
		sshrpc_hostkey_status st;
		sshrpc_strict_hostkey mode;
		int rc;
		bool add;
	} cases[] = {
		{ SSHRPC_HOSTKEY_OK, SSHRPC_STRICT_YES, SSHRPC_OK, false },
		{ SSHRPC_HOSTKEY_OK, SSHRPC_STRICT_ACCEPT_NEW, SSHRPC_OK, false },
		{ SSHRPC_HOSTKEY_OK, SSHRPC_STRICT_NO, SSHRPC_OK, false },
		{ SSHRPC_HOSTKEY_UNKNOWN, SSHRPC_STRICT_YES, SSHRPC_E_HOSTKEY, false },
		{ SSHRPC_HOSTKEY_UNKNOWN, SSHRPC_STRICT_ACCEPT_NEW, SSHRPC_OK, true },
		{ SSHRPC_HOSTKEY_UNKNOWN, SSHRPC_STRICT_NO, SSHRPC_OK, true },
		{ SSHRPC_HOSTKEY_CHANGED, SSHRPC_STRICT_YES, SSHRPC_E_HOSTKEY, false },
		{ SSHRPC_HOSTKEY_CHANGED, SSHRPC_STRICT_ACCEPT_NEW, SSHRPC_E_HOSTKEY, false },
		{ SSHRPC_HOSTKEY_CHANGED, SSHRPC_STRICT_NO, SSHRPC_OK, false },
		{ SSHRPC_HOSTKEY_REVOKED, SSHRPC_STRICT_YES, SSHRPC_E_HOSTKEY, false },
		{ SSHRPC_HOSTKEY_REVOKED, SSHRPC_STRICT_ACCEPT_NEW, SSHRPC_E_HOSTKEY, false },
		{ SSHRPC_HOSTKEY_REVOKED, SSHRPC_STRICT_NO, SSHRPC_E_HOSTKEY, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool add = true;
		sshrpc_err err;
		sshrpc_err_clear(&err);
		int rc = sshrpc_known_hosts_decide(cases[i].st, cases[i].mode, "h.example.org", 22, &add, &err);
		cr_assert_eq(rc, cases[i].rc, "case %zu", i);
		cr_assert_eq(add, cases[i].add, "case %zu", i);
		if (rc != SSHRPC_OK) {
			cr_assert_eq(err.reason, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE);
			cr_assert(strstr(err.msg, "h.example.org") != NULL);
		}
	}
	sshrpc_strict_hostkey m;
	cr_assert_eq(sshrpc_strict_hostkey_parse("accept-new", &m), SSHRPC_OK);
	cr_assert_eq(m, SSHRPC_STRICT_ACCEPT_NEW);
	cr_assert_eq(sshrpc_strict_hostkey_parse("ask", &m), SSHRPC_E_INVALID);
}
