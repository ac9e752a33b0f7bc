/* The built-in module sys (interface.md, "Built-in module sys"): the
 * functions the benchmarks and tests call. sleep/1 answers from a session
 * timer, so a sleeping call holds nothing but its request. */
#include "rpc/rpc_internal.h"
#include "sshrpc/rpc.h"

static int sys_ping(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	*result = sshrpc_term_atom("pong");
	return SSHRPC_RPC_OK;
}

static int sys_echo(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	*result = argv[0];
	return SSHRPC_RPC_OK;
}

static int sys_add(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	if (!sshrpc_term_is_integer(&argv[0]) || !sshrpc_term_is_integer(&argv[1]))
		return SSHRPC_RPC_BADARG;
	int rc = rpc_integer_add(sshrpc_rpc_call_heap(call), &argv[0], &argv[1], result);
	return rc == SSHRPC_OK ? SSHRPC_RPC_OK : rc;
}

static int sys_sink(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	/* byte_size/1: a bitstring counts its last, partial byte */
	if (argv[0].type != SSHRPC_TERM_BINARY)
		return SSHRPC_RPC_BADARG;
	*result = sshrpc_term_int(argv[0].len);
	return SSHRPC_RPC_OK;
}

static int sys_source(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	if (!sshrpc_term_is_integer(&argv[0]))
		return SSHRPC_RPC_BADARG;
	if (argv[0].type == SSHRPC_TERM_BIGINT)
		return argv[0].aux != 0 ? SSHRPC_RPC_BADARG : SSHRPC_E_TOO_LARGE;
	int64_t n = argv[0].v.i;
	if (n < 0)
		return SSHRPC_RPC_BADARG;
	if ((uint64_t)n > UINT32_MAX)
		return SSHRPC_E_TOO_LARGE;
	sshrpc_heap *h = sshrpc_rpc_call_heap(call);
	*result = sshrpc_term_binary_new(h, (size_t)n, NULL);
	if (result->type == SSHRPC_TERM_INVALID)
		return h->failed != 0 ? h->failed : SSHRPC_E_TOO_LARGE;
	return SSHRPC_RPC_OK;
}

static int sys_sleep(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	int64_t ms;
	if (sshrpc_term_get_int64(&argv[0], &ms) != SSHRPC_OK || ms < 0)
		return SSHRPC_RPC_BADARG;
	sshrpc_term ok = sshrpc_term_atom("ok");
	int rc = sshrpc_rpc_call_reply_after(call, (uint64_t)ms, SSHRPC_RPC_OK, &ok);
	return rc == SSHRPC_OK ? SSHRPC_RPC_ASYNC : rc;
}

int sshrpc_rpc_sys_register(sshrpc_rpc_registry *r)
{
	static const struct {
		const char *name;
		int arity;
		sshrpc_rpc_handler fn;
	} fns[] = {
		{ "ping", 0, sys_ping },
		{ "echo", 1, sys_echo },
		{ "add", 2, sys_add },
		{ "sink", 1, sys_sink },
		{ "source", 1, sys_source },
		{ "sleep", 1, sys_sleep },
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		sshrpc_rpc_function f = {
			.module = "sys", .function = fns[i].name, .arity = fns[i].arity, .fn = fns[i].fn
		};
		int rc = sshrpc_rpc_registry_add(r, &f);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}
