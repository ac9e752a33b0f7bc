/* rpc-allow= / rpc-deny= patterns. */
#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

static bool permits(const sshrpc_rpc_acl *acl, const char *m, const char *f, unsigned arity)
{
	return sshrpc_rpc_acl_permits(acl, m, strlen(m), f, strlen(f), arity);
}

Test(acl, patterns)
{
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_rpc_acl *acl;
	sshrpc_err err = { 0 };
	cr_assert_eq(
		sshrpc_rpc_acl_from_options(&ta.a, "sys:*,lists:reverse/1, 'Elixir.Foo':bar , m:f/*", NULL, &acl, &err),
		SSHRPC_OK, "%s", err.msg);
	cr_expect(permits(acl, "sys", "ping", 0));
	cr_expect(permits(acl, "sys", "anything", 7));
	cr_expect(permits(acl, "lists", "reverse", 1));
	cr_expect(!permits(acl, "lists", "reverse", 2));
	cr_expect(!permits(acl, "lists", "map", 2));
	cr_expect(permits(acl, "Elixir.Foo", "bar", 0));
	cr_expect(permits(acl, "Elixir.Foo", "bar", 3));
	cr_expect(!permits(acl, "Elixir.Foo", "baz", 0));
	cr_expect(permits(acl, "m", "f", 9));
	cr_expect(!permits(acl, "sy", "ping", 0));
	cr_expect(!permits(acl, "syss", "ping", 0));
	sshrpc_rpc_acl_free(acl);

	/* deny wins; no allow list means everything else */
	cr_assert_eq(sshrpc_rpc_acl_from_options(&ta.a, NULL, "sys:sleep,os:*", &acl, &err), SSHRPC_OK);
	cr_expect(permits(acl, "sys", "ping", 0));
	cr_expect(!permits(acl, "sys", "sleep", 1));
	cr_expect(!permits(acl, "os", "cmd", 1));
	cr_expect(permits(acl, "lists", "reverse", 1));
	sshrpc_rpc_acl_free(acl);
	cr_assert_eq(sshrpc_rpc_acl_from_options(&ta.a, "*", "sys:sleep/1", &acl, &err), SSHRPC_OK);
	cr_expect(permits(acl, "any", "thing", 3));
	cr_expect(!permits(acl, "sys", "sleep", 1));
	cr_expect(permits(acl, "sys", "sleep", 2));
	sshrpc_rpc_acl_free(acl);

	/* an empty allow list allows nothing */
	cr_assert_eq(sshrpc_rpc_acl_from_options(&ta.a, "", NULL, &acl, &err), SSHRPC_OK);
	cr_expect(!permits(acl, "sys", "ping", 0));
	sshrpc_rpc_acl_free(acl);

	/* neither option: no ACL, everything permitted */
	cr_assert_eq(sshrpc_rpc_acl_from_options(&ta.a, NULL, NULL, &acl, &err), SSHRPC_OK);
	cr_expect_null(acl);
	cr_expect(permits(NULL, "sys", "ping", 0));

	static const char *const bad[] = { "sys", "sys:", ":ping", "sys:ping/", "sys:ping/x", "sys:ping/256", "Sys:*",
		"sys:*,", ",sys:*", "sys:* lists:*", "'unterminated:*", "sys:ping/1/2", "*:ping" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sshrpc_err_clear(&err);
		cr_expect_eq(sshrpc_rpc_acl_from_options(&ta.a, bad[i], NULL, &acl, &err), SSHRPC_E_INVALID,
			"accepted %s", bad[i]);
		cr_expect(strstr(err.msg, "rpc-allow") != NULL, "%s", err.msg);
		sshrpc_err_clear(&err);
		cr_expect_eq(sshrpc_rpc_acl_from_options(&ta.a, NULL, bad[i], &acl, &err), SSHRPC_E_INVALID);
		cr_expect(strstr(err.msg, "rpc-deny") != NULL, "%s", err.msg);
	}
	cr_expect_eq(ta.live_blocks, 0);
	cr_expect_eq(ta.live_bytes, 0);
}
