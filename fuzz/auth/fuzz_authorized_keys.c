/* authorized_keys and known_hosts parsers on arbitrary text: every entry
 * that parses is looked up by its own key (and must be found unless its
 * options refuse it), deep-copied and freed; every known_hosts key is
 * checked against a few names. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/auth.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_authkeys *ak = NULL;
	if (sshrpc_authkeys_parse(NULL, "fuzz", data, len, NULL, NULL, &ak) == SSHRPC_OK) {
		sshrpc_authkeys_ctx ctx = { "192.0.2.1", "host.example.org", 1700000000, 3600 };
		for (size_t i = 0; i < sshrpc_authkeys_count(ak); i++) {
			const sshrpc_authkeys_entry *e = sshrpc_authkeys_get(ak, i), *found = NULL;
			char why[80];
			int rc = sshrpc_authkeys_lookup(ak, e->key, &ctx, &found, why, sizeof why);
			check(rc == SSHRPC_OK || rc == SSHRPC_E_DENIED);
			check(rc != SSHRPC_OK || sshrpc_key_equal_public(found->key, e->key));
			/* An entry without refusing options is always found. */
			check(rc == SSHRPC_OK || e->opts.has_expiry || e->opts.from != NULL);
			sshrpc_authkeys_entry *copy = NULL;
			if (sshrpc_authkeys_entry_copy(NULL, e, &copy) == SSHRPC_OK) {
				check(copy->line == e->line);
				check((copy->opts.command == NULL) == (e->opts.command == NULL));
				sshrpc_authkeys_entry_free(NULL, copy);
			}
		}
		sshrpc_authkeys_free(ak);
	}
	sshrpc_known_hosts *kh = NULL;
	if (sshrpc_known_hosts_parse(NULL, "fuzz", data, len, NULL, NULL, &kh) == SSHRPC_OK) {
		/* Any key will do to exercise the matching; use the first
		 * authorized_keys-style key in the input when there is one. */
		sshrpc_authkeys *ak2 = NULL;
		if (sshrpc_authkeys_parse(NULL, "fuzz", data, len, NULL, NULL, &ak2) == SSHRPC_OK &&
			sshrpc_authkeys_count(ak2) > 0) {
			const sshrpc_key *k = sshrpc_authkeys_get(ak2, 0)->key;
			static const char *const hosts[] = { "host.example.org", "192.0.2.1", "[::1]", "x" };
			for (size_t i = 0; i < 4; i++) {
				unsigned line;
				sshrpc_hostkey_status st =
					sshrpc_known_hosts_check(kh, hosts[i], i == 2 ? 2222 : 22, k, &line);
				check(st <= SSHRPC_HOSTKEY_REVOKED);
				check((st == SSHRPC_HOSTKEY_UNKNOWN) == (line == 0));
			}
		}
		sshrpc_authkeys_free(ak2);
		sshrpc_known_hosts_free(kh);
	}
	return 0;
}
