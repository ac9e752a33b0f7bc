/* Hand-made plaintext packets and KEXINITs, for playing a misbehaving peer
 * before the first NEWKEYS, and a parser for a transport's plaintext output. */
#ifndef SSHRPC_TEST_TRANSPORT_RAW_H
#define SSHRPC_TEST_TRANSPORT_RAW_H

#include "sshrpc/transport.h"

/* A well-formed unencrypted packet around payload; returns its size. */
size_t raw_packet(uint8_t *out, size_t cap, const uint8_t *payload, size_t n);
/* A packet with the given length and padding-length fields followed by
 * body bytes as given (no checks). */
size_t raw_packet_fields(uint8_t *out, size_t cap, uint32_t len, uint8_t padlen, const uint8_t *body, size_t n);
/* A KEXINIT payload with these lists (NULL: our defaults); returns size. */
size_t raw_kexinit(uint8_t *out, size_t cap, const char *kex, const char *hostkey, const char *cipher, const char *mac,
	bool follows);
/* Feeds everything (fails the test when it does not fit). */
void raw_feed(sshrpc_transport *t, const void *p, size_t n);
/* Calls recv until it returns something other than a message; returns that. */
int raw_recv_all(sshrpc_transport *t);

/* The plaintext packets in a transport's output (version line skipped when
 * skip_version): calls fn for each payload, consumes the output. Only valid
 * before the sender's first NEWKEYS. */
typedef void (*raw_packet_fn)(void *ud, const uint8_t *payload, size_t n);
size_t raw_parse_output(sshrpc_transport *t, bool skip_version, raw_packet_fn fn, void *ud);

/* Finds a DISCONNECT among the plaintext packets of the output: its reason,
 * or 0 when none. */
uint32_t raw_find_disconnect(sshrpc_transport *t, bool skip_version);

#endif
