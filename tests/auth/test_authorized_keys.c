/* authorized_keys: every line read, ten keys with the working one last,
 * options and their quoting, expiry-time, from= (names, addresses, CIDR,
 * negation), malformed and unsupported lines skipped with a warning that
 * names file and line; and the pattern matcher underneath. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_test.h"

/* ssh-keygen makes n ed25519 keys in dir; *lines gets their .pub lines. */
static sshrpc_key **make_keys(const char *dir, size_t n, char lines[][160])
{
	sshrpc_key **keys = calloc(n, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		char path[128], pub[140];
		snprintf(path, sizeof path, "%s/k%zu", dir, i);
		snprintf(pub, sizeof pub, "%s.pub", path);
		cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -N '' -C key%zu -f %s", i, path), 0);
		keys[i] = at_load_pub(pub);
		size_t len;
		uint8_t *d = at_read(pub, &len);
		while (len > 0 && d[len - 1] == '\n')
			d[--len] = 0;
		snprintf(lines[i], 160, "%s", (char *)d);
		free(d);
	}
	return keys;
}

static sshrpc_authkeys *parse(const char *text, at_logbuf *lb)
{
	sshrpc_authkeys *ak = NULL;
	cr_assert_eq(
		sshrpc_authkeys_parse(NULL, "authorized_keys", (const uint8_t *)text, strlen(text), at_log, lb, &ak),
		SSHRPC_OK);
	return ak;
}

static const sshrpc_authkeys_ctx default_ctx = { "192.0.2.10", "client.example.org", 1700000000, 0 };

Test(authorized_keys, ten_keys_working_one_last)
{
	char dir[64];
	char lines[11][160];
	at_mkdtemp(dir, sizeof dir);
	sshrpc_key **keys = make_keys(dir, 11, lines);
	char text[4096] = "# my keys\n\n";
	for (size_t i = 0; i < 10; i++) {
		strcat(text, lines[i]);
		strcat(text, i % 3 == 0 ? "\r\n" : "\n");
		if (i == 4)
			strcat(text, "   # a comment in the middle\n\t\n");
	}
	at_logbuf lb = { "", 0 };
	sshrpc_authkeys *ak = parse(text, &lb);
	cr_assert_eq(sshrpc_authkeys_count(ak), 10);
	cr_assert_eq(lb.lines, 0, "%s", lb.text);
	const sshrpc_authkeys_entry *e;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[9], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	cr_assert_str_eq(e->comment, "key9");
	cr_assert_eq(e->line, 14);
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	cr_assert_eq(e->line, 3);
	char why[80];
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[10], &default_ctx, &e, why, sizeof why), SSHRPC_E_DENIED);
	cr_assert_null(e);
	cr_assert_str_eq(why, "key not listed");
	sshrpc_authkeys_free(ak);
	for (size_t i = 0; i < 11; i++)
		sshrpc_key_free(keys[i]);
	free(keys);
	at_rmdir(dir);
}

Test(authorized_keys, every_key_type)
{
	char dir[64], text[16384] = "";
	at_mkdtemp(dir, sizeof dir);
	static const char *const specs[] = { "-t ed25519", "-t rsa -b 2048", "-t ecdsa -b 256", "-t ecdsa -b 384",
		"-t ecdsa -b 521" };
	sshrpc_key *keys[5];
	for (size_t i = 0; i < 5; i++) {
		char path[128], pub[140];
		snprintf(path, sizeof path, "%s/k%zu", dir, i);
		snprintf(pub, sizeof pub, "%s.pub", path);
		cr_assert_eq(at_run("ssh-keygen -q %s -N '' -f %s", specs[i], path), 0);
		keys[i] = at_load_pub(pub);
		size_t len;
		uint8_t *d = at_read(pub, &len);
		strcat(text, (char *)d);
		free(d);
	}
	/* Types we lack are skipped with a note, not an error. */
	strcat(text, "ssh-dss AAAAB3NzaC1kc3MAAACBAJ7wE5ON dsa\n");
	strcat(text, "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA== sk\n");
	strcat(text, "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t cert\n");
	at_logbuf lb = { "", 0 };
	sshrpc_authkeys *ak = parse(text, &lb);
	cr_assert_eq(sshrpc_authkeys_count(ak), 5);
	cr_assert_eq(lb.lines, 3, "%s", lb.text);
	cr_assert(strstr(lb.text, "authorized_keys:6: unsupported key type ssh-dss; line skipped") != NULL, "%s",
		lb.text);
	cr_assert(strstr(lb.text, "authorized_keys:7: unsupported key type sk-ssh-ed25519@openssh.com") != NULL);
	cr_assert(strstr(lb.text, "authorized_keys:8: unsupported key type ssh-ed25519-cert-v01@openssh.com") != NULL);
	for (size_t i = 0; i < 5; i++) {
		const sshrpc_authkeys_entry *e;
		cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[i], &default_ctx, &e, NULL, 0), SSHRPC_OK, "key %zu", i);
		cr_assert_eq(e->line, i + 1);
		sshrpc_key_free(keys[i]);
	}
	sshrpc_authkeys_free(ak);
	at_rmdir(dir);
}

Test(authorized_keys, options_parsed)
{
	char dir[64];
	char lines[3][160];
	at_mkdtemp(dir, sizeof dir);
	sshrpc_key **keys = make_keys(dir, 3, lines);
	char text[4096];
	snprintf(text, sizeof text,
		"restrict,pty,command=\"echo \\\"hi\\\" there\",environment=\"A=1\",environment=\"B=two words\","
		"permitopen=\"localhost:80\",permitopen=\"[::1]:22\",permitlisten=\"8080\",no-touch-required,"
		"rpc-allow=\"sys:*,lists:reverse/1\",rpc-deny=\"sys:sleep/1\",tunnel=\"3\" %s\n"
		"no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,NO-USER-RC %s\n"
		"from=\"*.example.org,!bad.example.org\",expiry-time=\"20991231\" %s\n",
		lines[0], lines[1], lines[2]);
	at_logbuf lb = { "", 0 };
	sshrpc_authkeys *ak = parse(text, &lb);
	cr_assert_eq(lb.lines, 1, "%s", lb.text);
	cr_assert(strstr(lb.text, "authorized_keys:1: bad permitlisten \"8080\"") != NULL, "%s", lb.text);
	cr_assert_eq(sshrpc_authkeys_count(ak), 2);
	/* Line 1 had a bad permitlisten (no port is fine for OpenSSH, but we
	 * ask host:port): fix it and parse again. */
	sshrpc_authkeys_free(ak);
	char *bad = strstr(text, "permitlisten=\"8080\"");
	memcpy(bad, "permitlisten=\"*:80\"", 19);
	lb = (at_logbuf){ "", 0 };
	ak = parse(text, &lb);
	cr_assert_eq(lb.lines, 0, "%s", lb.text);
	cr_assert_eq(sshrpc_authkeys_count(ak), 3);

	const sshrpc_authkeys_entry *e;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	const sshrpc_authkeys_opts *o = &e->opts;
	cr_assert(o->restrict_all);
	cr_assert_not(o->no_pty); /* re-enabled after restrict */
	cr_assert(o->no_port_forwarding && o->no_agent_forwarding && o->no_x11_forwarding && o->no_user_rc);
	cr_assert(o->no_touch_required);
	cr_assert_str_eq(o->command, "echo \"hi\" there");
	cr_assert_eq(o->n_environment, 2);
	cr_assert_str_eq(o->environment[0], "A=1");
	cr_assert_str_eq(o->environment[1], "B=two words");
	cr_assert_eq(o->n_permitopen, 2);
	cr_assert_str_eq(o->permitopen[1], "[::1]:22");
	cr_assert_eq(o->n_permitlisten, 1);
	cr_assert_str_eq(o->rpc_allow, "sys:*,lists:reverse/1");
	cr_assert_str_eq(o->rpc_deny, "sys:sleep/1");
	cr_assert_str_eq(o->tunnel, "3");
	cr_assert_str_eq(e->comment, "key0");

	/* The copy the server keeps after success is deep. */
	sshrpc_authkeys_entry *copy = NULL;
	cr_assert_eq(sshrpc_authkeys_entry_copy(NULL, e, &copy), SSHRPC_OK);

	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[1], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	o = &e->opts;
	cr_assert_not(o->restrict_all);
	cr_assert(
		o->no_pty && o->no_port_forwarding && o->no_agent_forwarding && o->no_x11_forwarding && o->no_user_rc);
	cr_assert_null(o->command);
	cr_assert_null(o->rpc_allow);

	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[2], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	cr_assert(e->opts.has_expiry);
	cr_assert_str_eq(e->opts.from, "*.example.org,!bad.example.org");
	sshrpc_authkeys_free(ak);

	cr_assert_str_eq(copy->opts.command, "echo \"hi\" there");
	cr_assert_str_eq(copy->opts.environment[1], "B=two words");
	cr_assert_str_eq(copy->opts.rpc_allow, "sys:*,lists:reverse/1");
	cr_assert(sshrpc_key_equal_public(copy->key, keys[0]));
	sshrpc_authkeys_entry_free(NULL, copy);
	for (size_t i = 0; i < 3; i++)
		sshrpc_key_free(keys[i]);
	free(keys);
	at_rmdir(dir);
}

Test(authorized_keys, malformed_lines_skipped_with_file_and_line)
{
	char dir[64];
	char lines[2][160];
	at_mkdtemp(dir, sizeof dir);
	sshrpc_key **keys = make_keys(dir, 2, lines);
	char text[8192];
	snprintf(text, sizeof text,
		"no-such-option %s\n"					      /* 1 */
		"command=\"unterminated %s\n"				      /* 2 */
		"command=unquoted %s\n"					      /* 3 */
		"cert-authority %s\n"					      /* 4 */
		"command=\"a\",command=\"b\" %s\n"			      /* 5 */
		"expiry-time=\"2024131\" %s\n"				      /* 6 */
		"environment=\"=x\" %s\n"				      /* 7 */
		"ssh-ed25519 !!!notbase64 x\n"				      /* 8 */
		"ssh-ed25519\n"						      /* 9 */
		"no-pty\n"						      /* 10 */
		"restrict=\"x\" %s\n"					      /* 11 */
		"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA== mismatched type word\n" /* 12 */
		"no-pty, %s\n"						      /* 13 */
		"%s\n",							      /* 14: the good one */
		lines[0], lines[0], lines[0], lines[0], lines[0], lines[0], lines[0], lines[0], lines[0], lines[1]);
	at_logbuf lb = { "", 0 };
	sshrpc_authkeys *ak = parse(text, &lb);
	cr_assert_eq(sshrpc_authkeys_count(ak), 1, "%s", lb.text);
	cr_assert_eq(lb.lines, 13, "%s", lb.text);
	static const char *const expect[] = {
		"authorized_keys:1: bad option 'no-such-option'; line skipped",
		"authorized_keys:2: option command: unterminated quoted value",
		"authorized_keys:3: option command: value must be in double quotes",
		"authorized_keys:4: cert-authority is not supported",
		"authorized_keys:5: option command given twice",
		"authorized_keys:6: bad expiry-time \"2024131\"",
		"authorized_keys:7: bad environment \"=x\"",
		"authorized_keys:8: not a valid public key",
		"authorized_keys:9: not a valid public key",
		"authorized_keys:10: options but no key",
		"authorized_keys:11: option restrict takes no value",
		"authorized_keys:12: not a valid public key",
		"authorized_keys:13: bad option syntax",
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		cr_assert(strstr(lb.text, expect[i]) != NULL, "missing '%s' in:\n%s", expect[i], lb.text);
	const sshrpc_authkeys_entry *e;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[1], &default_ctx, &e, NULL, 0), SSHRPC_OK);
	cr_assert_eq(e->line, 14);
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &default_ctx, &e, NULL, 0), SSHRPC_E_DENIED);
	sshrpc_authkeys_free(ak);
	sshrpc_key_free(keys[0]);
	sshrpc_key_free(keys[1]);
	free(keys);
	at_rmdir(dir);
}

Test(authorized_keys, expiry_time)
{
	char dir[64];
	char lines[1][160];
	at_mkdtemp(dir, sizeof dir);
	sshrpc_key **keys = make_keys(dir, 1, lines);
	char text[1024];
	/* 2023-11-14 22:13:20 UTC is 1700000000. */
	snprintf(text, sizeof text, "expiry-time=\"202311142213Z\" %s\n", lines[0]);
	sshrpc_authkeys *ak = parse(text, &(at_logbuf){ "", 0 });
	const sshrpc_authkeys_entry *e;
	char why[80];
	sshrpc_authkeys_ctx ctx = default_ctx;
	ctx.now_s = 1700000000; /* 20 s after expiry */
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, why, sizeof why), SSHRPC_E_DENIED);
	cr_assert_str_eq(why, "line 1: expiry-time passed");
	ctx.now_s = 1699999979;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, why, sizeof why), SSHRPC_OK);
	sshrpc_authkeys_free(ak);

	/* Local time: the caller's offset moves the instant. */
	snprintf(text, sizeof text, "expiry-time=\"20231114221340\" %s\n", lines[0]);
	ak = parse(text, &(at_logbuf){ "", 0 });
	ctx.now_s = 1700000000; /* 22:13:20 UTC */
	ctx.utc_offset_s = 0;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, NULL, 0), SSHRPC_OK);
	ctx.utc_offset_s = 3600; /* UTC+1: 22:13:40 local is 21:13:40 UTC */
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, NULL, 0), SSHRPC_E_DENIED);
	sshrpc_authkeys_free(ak);

	/* An expiry long past, and a second line for the same key that is
	 * still valid: the search goes on to it, as sshd's does. */
	snprintf(text, sizeof text, "expiry-time=\"20000101\" %s\ncommand=\"later\" %s\n", lines[0], lines[0]);
	ak = parse(text, &(at_logbuf){ "", 0 });
	ctx = default_ctx;
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, NULL, 0), SSHRPC_OK);
	cr_assert_eq(e->line, 2);
	cr_assert_str_eq(e->opts.command, "later");
	sshrpc_authkeys_free(ak);
	snprintf(text, sizeof text, "expiry-time=\"19991231\" %s\n", lines[0]);
	ak = parse(text, &(at_logbuf){ "", 0 });
	cr_assert_eq(sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, why, sizeof why), SSHRPC_E_DENIED);
	cr_assert_str_eq(why, "line 1: expiry-time passed");
	sshrpc_authkeys_free(ak);
	sshrpc_key_free(keys[0]);
	free(keys);
	at_rmdir(dir);
}

Test(authorized_keys, from_matched_and_unmatched)
{
	char dir[64];
	char lines[1][160];
	at_mkdtemp(dir, sizeof dir);
	sshrpc_key **keys = make_keys(dir, 1, lines);
	static const struct {
		const char *from, *addr, *host;
		bool ok;
	} cases[] = {
		{ "192.0.2.10", "192.0.2.10", NULL, true }, { "192.0.2.11", "192.0.2.10", NULL, false },
		{ "192.0.2.0/24", "192.0.2.10", NULL, true }, { "192.0.3.0/24", "192.0.2.10", NULL, false },
		{ "10.0.0.0/8,192.0.2.*", "192.0.2.77", NULL, true },
		{ "192.0.2.0/24,!192.0.2.10", "192.0.2.10", NULL, false },
		{ "192.0.2.0/24,!192.0.2.10", "192.0.2.9", NULL, true },
		{ "*.example.org", "198.51.100.1", "client.EXAMPLE.org", true },
		{ "*.example.org,!client.example.org", "198.51.100.1", "client.example.org", false },
		{ "*.example.org", "198.51.100.1", NULL, false }, { "2001:db8::/32", "2001:db8:1::5", NULL, true },
		{ "2001:db8::/32", "2001:db9::5", NULL, false }, { "::1", "::1", NULL, true },
		{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.10", NULL, true },
		{ "host?.example.org", "203.0.113.5", "host1.example.org", true },
		{ "host?.example.org", "203.0.113.5", "host12.example.org", false },
		{ "192.0.2.0/33", "192.0.2.10", NULL, false }, /* not a CIDR: a pattern that never matches */
		{ "*", NULL, NULL, false },		       /* no address known: refuse */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[1024];
		snprintf(text, sizeof text, "from=\"%s\" %s\n", cases[i].from, lines[0]);
		at_logbuf lb = { "", 0 };
		sshrpc_authkeys *ak = parse(text, &lb);
		cr_assert_eq(sshrpc_authkeys_count(ak), 1, "%s", lb.text);
		sshrpc_authkeys_ctx ctx = { cases[i].addr, cases[i].host, 1700000000, 0 };
		const sshrpc_authkeys_entry *e;
		char why[80] = "";
		int rc = sshrpc_authkeys_lookup(ak, keys[0], &ctx, &e, why, sizeof why);
		cr_assert_eq(rc == SSHRPC_OK, cases[i].ok, "case %zu: from=\"%s\" addr %s host %s", i, cases[i].from,
			cases[i].addr, cases[i].host);
		if (!cases[i].ok)
			cr_assert_str_eq(why, "line 1: from= not matched");
		sshrpc_authkeys_free(ak);
	}
	sshrpc_key_free(keys[0]);
	free(keys);
	at_rmdir(dir);
}

Test(match, patterns)
{
	static const struct {
		const char *s, *p;
		bool nocase, ok;
	} cases[] = {
		{ "abc", "abc", false, true },
		{ "abc", "a*", false, true },
		{ "abc", "*c", false, true },
		{ "abc", "a?c", false, true },
		{ "abc", "a?", false, false },
		{ "", "*", false, true },
		{ "", "?", false, false },
		{ "aXbXc", "a*b*c", false, true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*b", false, true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "*a*a*a*a*a*a*a*a*b", false, false },
		{ "ABC", "abc", false, false },
		{ "ABC", "abc", true, true },
		{ "host.example.org", "*.example.org", true, true },
		{ "example.org", "*.example.org", true, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_assert_eq(sshrpc_match_pattern(
				     cases[i].s, strlen(cases[i].s), cases[i].p, strlen(cases[i].p), cases[i].nocase),
			cases[i].ok, "'%s' vs '%s'", cases[i].s, cases[i].p);
	cr_assert_eq(sshrpc_match_list("b", 1, "a,b,c", 5, false), 1);
	cr_assert_eq(sshrpc_match_list("d", 1, "a,b,c", 5, false), 0);
	cr_assert_eq(sshrpc_match_list("b", 1, "*,!b", 4, false), -1);
	cr_assert_eq(sshrpc_match_list("b", 1, "!b,*", 4, false), -1);
	cr_assert_eq(sshrpc_match_list("x", 1, "!b", 2, false), 0);
	cr_assert_eq(sshrpc_match_cidr("10.1.2.3", "10.0.0.0/8", 10), 1);
	cr_assert_eq(sshrpc_match_cidr("11.1.2.3", "10.0.0.0/8", 10), 0);
	cr_assert_eq(sshrpc_match_cidr("10.1.2.3", "10.1.0.0/8", 10), -1); /* host bits set */
	cr_assert_eq(sshrpc_match_cidr("10.1.2.3", "10.1.2.3", 8), 1);
	cr_assert_eq(sshrpc_match_cidr("fe80::1", "fe80::/10", 9), 1);
	cr_assert_eq(sshrpc_match_cidr("fe80::1", "10.0.0.0/8", 10), 0);
	cr_assert_eq(sshrpc_match_cidr("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128", 19), 1);
	cr_assert_eq(sshrpc_match_cidr("1:2:3:4:5:6:7:8:9", "::/0", 4), -1);
	cr_assert_eq(sshrpc_match_cidr("1::2::3", "::/0", 4), -1);
	cr_assert_eq(sshrpc_match_cidr("256.1.1.1", "0.0.0.0/0", 9), -1);
}
