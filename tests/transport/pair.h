/* A client and a server transport wired together over memory buffers, for
 * the in-process tests. */
#ifndef SSHRPC_TEST_TRANSPORT_PAIR_H
#define SSHRPC_TEST_TRANSPORT_PAIR_H

#include "sshrpc/transport.h"

/* Host keys of every type, made once per test process. */
typedef struct test_hostkeys {
	sshrpc_key *keys[5]; /* ed25519, rsa, p256, p384, p521 */
	size_t n;
} test_hostkeys;

void test_hostkeys_make(test_hostkeys *hk, bool with_rsa);
void test_hostkeys_free(test_hostkeys *hk);

typedef struct test_pair {
	sshrpc_transport *c, *s;
	sshrpc_transport_config cc, sc;
	uint64_t bytes_moved;
} test_pair;

/* Fills both configs with test defaults (accept any host key). */
void test_pair_config(test_pair *p, const test_hostkeys *hk);
int test_pair_start(test_pair *p);
void test_pair_free(test_pair *p);
/* Moves bytes both ways and calls recv on both sides until nothing moves.
 * Messages for the upper layer are handed to on_msg (may be NULL: then
 * they count as an error). Returns the first error of either side, or 0. */
typedef int (*test_msg_fn)(void *ud, bool server, const uint8_t *msg, size_t len);
int test_pair_run(test_pair *p, test_msg_fn on_msg, void *ud);
/* Moves all pending output of from into to (as much as to takes). */
size_t test_move(sshrpc_transport *from, sshrpc_transport *to);
/* Sends one upper-layer message through the io. */
int test_send(sshrpc_transport *t, uint8_t type, const void *body, size_t len);

#endif
