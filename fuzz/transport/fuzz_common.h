/* Shared by the transport harnesses: a cursor over the input, plaintext
 * packet framing, driving an engine until it wants more, fixed host keys. */
#ifndef SSHRPC_FUZZ_TRANSPORT_COMMON_H
#define SSHRPC_FUZZ_TRANSPORT_COMMON_H

#include "sshrpc/transport.h"

typedef struct fz_in {
	const uint8_t *p;
	size_t len, off;
} fz_in;

uint8_t fz_u8(fz_in *in);
uint16_t fz_u16(fz_in *in);
/* Up to n bytes (fewer at the end); returns how many. */
size_t fz_take(fz_in *in, size_t n, const uint8_t **p);

/* Feeds a plaintext packet around payload. */
void fz_feed_packet(sshrpc_transport *t, const uint8_t *payload, size_t n);
/* Feeds bytes (as much as the engine takes, driving it in between). */
void fz_feed(sshrpc_transport *t, const uint8_t *p, size_t n);
/* recv until it stops returning messages; drops output. false once the
 * engine is closed. */
bool fz_drive(sshrpc_transport *t);

/* A KEXINIT payload (message number included) offering these. */
size_t fz_kexinit(uint8_t *out, size_t cap, const char *kex, const char *hostkey, bool follows);

/* Host keys made once per process: ed25519, rsa, p256, p384, p521. */
sshrpc_key *const *fz_host_keys(size_t *n);

#endif
