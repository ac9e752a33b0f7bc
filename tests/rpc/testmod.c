/* A plugin module as a user would write one (docs/rpc.md): built by the
 * test suite as a shared object and loaded with sshrpc_rpc_module_load. */
#include "sshrpc/rpc.h"

/* testmod:hello(Name) -> {hello, Name} */
static int hello(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	*result = SSHRPC_TUPLE(sshrpc_rpc_call_heap(call), sshrpc_term_atom("hello"), argv[0]);
	return SSHRPC_RPC_OK;
}

/* testmod:sum(List) -> the sum of a list of small integers */
static int sum(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	size_t n;
	if (sshrpc_term_list_length(&argv[0], &n) != SSHRPC_OK)
		return SSHRPC_RPC_BADARG;
	const sshrpc_term *e = sshrpc_term_list_elems(&argv[0]);
	int64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		if (sshrpc_term_get_int64(&e[i], &v) != SSHRPC_OK)
			return SSHRPC_RPC_BADARG;
		total += v;
	}
	*result = sshrpc_term_int(total);
	return SSHRPC_RPC_OK;
}

/* testmod:config() -> a map, to show building one */
static int config(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	sshrpc_heap *h = sshrpc_rpc_call_heap(call);
	sshrpc_term kv[] = {
		sshrpc_term_atom("name"),
		sshrpc_term_string(h, "x", 1),
		sshrpc_term_atom("ports"),
		SSHRPC_LIST(h, sshrpc_term_int(22), sshrpc_term_int(2222)),
	};
	*result = sshrpc_term_map(h, 2, kv);
	return SSHRPC_RPC_OK;
}

SSHRPC_RPC_MODULE(reg)
{
	if (abi_version != SSHRPC_RPC_ABI_VERSION)
		return SSHRPC_E_UNSUPPORTED;
	const sshrpc_rpc_function fns[] = {
		{ .module = "testmod", .function = "hello", .arity = 1, .fn = hello },
		{ .module = "testmod", .function = "sum", .arity = 1, .fn = sum },
		{ .module = "testmod", .function = "config", .arity = 0, .fn = config },
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		int rc = sshrpc_rpc_registry_add(reg, &fns[i]);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}
