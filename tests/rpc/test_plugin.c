/* A plugin module built by the test suite (testmod.c) loaded from its
 * shared object and called over a session. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define EXPECT_REPLIES(H, want)                                                                                        \
	do {                                                                                                           \
		char *got_ = h_replies(H);                                                                             \
		cr_expect_str_eq(got_, want, "replies: %s\n    want: %s", got_, want);                                 \
		free(got_);                                                                                            \
	} while (0)

Test(plugin, load_and_call)
{
	harness H;
	h_init(&H);
	sshrpc_err err = { 0 };
	int rc = sshrpc_rpc_module_load(H.reg, RPC_TESTMOD_PATH, &err);
	cr_expect_eq(rc, SSHRPC_OK, "%s", err.msg);
	if (rc != SSHRPC_OK) {
		h_free(&H);
		return;
	}
	cr_expect_eq(sshrpc_rpc_registry_count(H.reg), 6 + 3);
	h_start(&H);
	h_send(&H, "{mfa,{testmod,hello,[world]}}");
	h_send(&H, "{call,1,{testmod,sum,[[1,2,3,400]]}}");
	h_send(&H, "{mfa,{testmod,sum,[[1,x]]}}");
	h_send(&H, "{mfa,{testmod,config,[]}}");
	h_send(&H, "{mfa,{testmod,hello,[]}}");
	EXPECT_REPLIES(&H, "{ok,{hello,world}} ; {reply,1,{ok,406}} ; {error,{badarg,{testmod,sum,1}}} ; "
			   "{ok,#{name => \"x\",ports => [22,2222]}} ; {error,{undef,{testmod,hello,0}}}");
	/* loading twice: its functions are taken already */
	sshrpc_err_clear(&err);
	cr_expect_eq(sshrpc_rpc_module_load(H.reg, RPC_TESTMOD_PATH, &err), SSHRPC_E_STATE);
	h_free(&H);
}

Test(plugin, load_errors)
{
	harness H;
	h_init(&H);
	sshrpc_err err = { 0 };
	cr_expect_eq(sshrpc_rpc_module_load(H.reg, "/nonexistent/mod.so", &err), SSHRPC_E_IO);
	cr_expect(strstr(err.msg, "/nonexistent/mod.so") != NULL, "%s", err.msg);
	/* a shared object without the init function (libz is in every build) */
	sshrpc_err_clear(&err);
	cr_expect_eq(sshrpc_rpc_module_load(H.reg, "libz.so.1", &err), SSHRPC_E_INVALID, "%s", err.msg);
	cr_expect(strstr(err.msg, "sshrpc_rpc_module_init") != NULL, "%s", err.msg);
	h_free(&H);
}
