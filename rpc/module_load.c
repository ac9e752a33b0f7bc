/* Loading plugin modules from shared objects (sshrpcd --module PATH.so):
 * a thin convenience over dlopen, kept apart because it is the one piece
 * of rpc/ that touches the file system; a firmware build leaves this file
 * out and registers its functions directly. The ABI is in rpc.h. */
#include <dlfcn.h>
#include <string.h>

#include "sshrpc/rpc.h"

static void unload(void *handle)
{
	dlclose(handle);
}

int sshrpc_rpc_module_load(sshrpc_rpc_registry *r, const char *path, sshrpc_err *err)
{
	/* RTLD_NOW: a missing symbol fails here, not at the first call. */
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "module %s: %s", path, why != NULL ? why : "cannot load");
	}
	void *sym = dlsym(h, SSHRPC_RPC_MODULE_INIT_SYMBOL);
	if (sym == NULL) {
		dlclose(h);
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "module %s: no %s function", path, SSHRPC_RPC_MODULE_INIT_SYMBOL);
	}
	sshrpc_rpc_module_init_fn init;
	/* object pointer to function pointer: POSIX guarantees dlsym works so */
	memcpy(&init, &sym, sizeof init);
	/* unloaded with the registry, after the module's own hooks */
	int rc = sshrpc_rpc_registry_on_free(r, unload, h);
	if (rc != SSHRPC_OK) {
		dlclose(h);
		return sshrpc_err_set(err, rc, 0, "module %s: out of memory", path);
	}
	rc = init(r, SSHRPC_RPC_ABI_VERSION);
	if (rc != SSHRPC_OK)
		return sshrpc_err_set(err, rc < 0 ? rc : SSHRPC_E_INVALID, 0,
			"module %s: initialisation failed (%s; built for another ABI version than %u?)", path,
			sshrpc_strerror(rc < 0 ? rc : SSHRPC_E_INVALID), SSHRPC_RPC_ABI_VERSION);
	return SSHRPC_OK;
}
