/* transport/ internals: the engine's state, shared by its files. Nothing
 * here is public API; fuzz harnesses and tests use only transport.h. */
#ifndef SSHRPC_TRANSPORT_INTERNAL_H
#define SSHRPC_TRANSPORT_INTERNAL_H

#include <stdbool.h>

#include "sshrpc/crypto.h"
#include "sshrpc/msgio.h"
#include "sshrpc/transport.h"
#include "sshrpc/wire.h"

/* ---- algorithm tables (algs.c) ------------------------------------------- */

typedef enum tr_kex_type {
	TR_KEX_ECDH, /* curve25519 and NIST curves: public values are strings */
	TR_KEX_DH,   /* fixed MODP group: public values are mpints */
	TR_KEX_GEX,  /* group exchange, RFC 4419 */
} tr_kex_type;

typedef struct tr_kex_method {
	const char *name;
	tr_kex_type type;
	sshrpc_kex_group group; /* TR_KEX_ECDH */
	int modp;		/* TR_KEX_DH: group number for sshrpc_dh_modp_prime */
	sshrpc_hash_alg hash;
	bool legacy;
} tr_kex_method;

typedef struct tr_hostkey_alg {
	const char *name;
	sshrpc_key_type key_type;
	bool legacy;
} tr_hostkey_alg;

const tr_kex_method *sshrpc_tr_kex_lookup(const char *name, size_t len);
const tr_hostkey_alg *sshrpc_tr_hostkey_lookup(const char *name, size_t len);
/* true for ext-info-c/-s and kex-strict-* markers: never negotiated. */
bool sshrpc_tr_kex_pseudo(const char *name, size_t len);
/* Checks a configured comma list: every name built, known and non-empty. */
int sshrpc_tr_list_check(sshrpc_alg_kind kind, const char *list, sshrpc_err *err);

/* ---- per-direction packet crypto state ---------------------------------- */

typedef struct tr_crypt {
	const sshrpc_cipher_info *cinfo; /* NULL before the first NEWKEYS */
	const sshrpc_mac_info *minfo;	 /* NULL with AEAD ciphers or none */
	sshrpc_cipher *cipher;
	sshrpc_mac *mac;
	uint32_t seqnr;
	uint32_t block;	 /* padding granularity: max(8, cipher block) */
	uint32_t maclen; /* MAC or AEAD tag bytes after the packet */
	bool etm;	 /* length in clear, MAC over the ciphertext */
	bool aead;
	bool encrypted; /* a cipher other than none is in use */
	uint64_t bytes; /* under the current key, for the rekey limit */
	uint64_t packets;
	uint64_t limit; /* rekey after this many bytes */
} tr_crypt;

/* Key material for one direction, derived at the end of a kex (§7.2). */
typedef struct tr_dir_keys {
	const sshrpc_cipher_info *cipher;
	const sshrpc_mac_info *mac;
	uint8_t key[64];
	uint8_t iv[32];
	uint8_t mackey[64];
} tr_dir_keys;

/* ---- the key exchange in progress --------------------------------------- */

typedef enum tr_kex_step {
	TKX_IDLE = 0,	   /* no kex runs */
	TKX_KEXINIT,	   /* our KEXINIT sent, the peer's awaited */
	TKX_C_REPLY,	   /* client: INIT sent, REPLY awaited (ECDH, DH) */
	TKX_C_GEX_GROUP,   /* client: GEX REQUEST sent, GROUP awaited */
	TKX_C_GEX_REPLY,   /* client: GEX INIT sent, REPLY awaited */
	TKX_S_INIT,	   /* server: INIT awaited (ECDH, DH) */
	TKX_S_GEX_REQUEST, /* server: GEX REQUEST awaited */
	TKX_S_GEX_INIT,	   /* server: GROUP sent, GEX INIT awaited */
	TKX_NEWKEYS,	   /* our NEWKEYS sent, the peer's awaited */
} tr_kex_step;

#define TR_PUB_MAX 1100 /* DH 8192 bits: 1024 bytes; P-521: 133 */
#define TR_SECRET_MAX 1100

typedef struct tr_kex {
	tr_kex_step step;
	bool initial; /* the first kex of the session */
	bool sent_kexinit;
	bool got_kexinit;
	bool ignore_guess; /* the peer guessed wrong: drop its next packet */
	bool newkeys_sent;
	sshrpc_buf my_kexinit; /* I_C or I_S: payloads, message number included */
	sshrpc_buf peer_kexinit;
	const tr_kex_method *method;
	const tr_hostkey_alg *hostkey_alg;
	const sshrpc_key *hostkey;	     /* server: the key that signs */
	const sshrpc_cipher_info *cipher[2]; /* [0] client to server, [1] server to client */
	const sshrpc_mac_info *mac[2];
	sshrpc_kex_key *eph;
	uint8_t pub[TR_PUB_MAX]; /* our ephemeral public value */
	size_t pub_len;
	/* group exchange */
	uint32_t gex_min, gex_n, gex_max;
	bool gex_old;
	sshrpc_buf gex_p; /* modulus, unsigned big-endian */
	uint8_t gex_g[8];
	size_t gex_glen;
	uint8_t h[SSHRPC_HASH_MAX];
	size_t hlen;
	tr_dir_keys keys[2];
	uint64_t t0_ns;
} tr_kex;

/* ---- the engine ------------------------------------------------------------ */

struct sshrpc_moduli {
	const sshrpc_alloc *alloc;
	size_t count;
	struct tr_modulus {
		uint32_t bits;
		uint8_t g[8];
		size_t glen;
		uint8_t *p;
		size_t plen;
	} * m;
};

struct sshrpc_transport {
	const sshrpc_alloc *alloc;
	sshrpc_transport_config cfg;
	sshrpc_role role;
	sshrpc_transport_state state;
	sshrpc_err err;

	/* our algorithm lists, resolved (owned) */
	char *kex_list;
	char *hostkey_list; /* server: filtered to the keys we hold */
	char *cipher_list;
	char *mac_list;
	char version[256];
	char peer_version[256];
	bool have_peer_version;
	uint32_t max_packet;

	/* Random bytes for packet padding, drawn 512 at a time: one call to
	 * the RNG per packet costs a system call (getpid) in libcrypto. */
	uint8_t pad_pool[512];
	size_t pad_left;

	/* input: [in_start, in_end) holds unprocessed bytes */
	uint8_t *in;
	size_t in_cap, in_max, in_start, in_end;
	size_t in_hwm; /* highest offset ever filled: all that free must wipe */
	bool in_eof;
	size_t rx_release; /* bytes of the packet recv returned last */
	bool rx_len_known;
	bool rx_first_done; /* non-EtM block cipher: first block decrypted */
	uint32_t rx_len;
	uint64_t rx_discard; /* CBC/CTR: bytes still to swallow before failing */
	uint32_t pre_version_lines;

	/* output */
	sshrpc_buf out;
	size_t out_done; /* complete packets at the front of out */
	bool open;	 /* an upper message is between begin and end */
	bool open_pending;
	size_t open_mark; /* start of the open packet (out) or entry (pending) */
	uint8_t open_type;
	sshrpc_buf pending; /* entries: uint32 len, payload */
	size_t pending_limit;
	size_t output_limit;

	tr_crypt tx, rx;
	tr_kex kex;
	bool kex_active;

	uint8_t session_id[SSHRPC_HASH_MAX];
	size_t sid_len;
	uint8_t h[SSHRPC_HASH_MAX];
	size_t h_len;
	sshrpc_transport_algs algs;
	sshrpc_key *server_key; /* client: owned */
	char *server_sig_algs;	/* client: from EXT_INFO, owned */
	size_t server_sig_algs_size;

	bool strict;
	bool first_kex_done;
	bool peer_ext_info; /* server: the client offered ext-info-c; client: the server ext-info-s */
	bool peer_ping;	    /* client: the server's EXT_INFO has ping@openssh.com */
	bool first_packet_seen;
	uint64_t now_ms;
	uint64_t kex_done_ms;
	uint64_t rekey_bytes;
	uint64_t rekey_interval_ms;
	uint32_t last_seqnr;
	sshrpc_transport_stats stats;
};

/* ---- shared helpers ----------------------------------------------------------- */

/* Records a fatal error, queues DISCONNECT (reason != 0) and closes. */
int sshrpc_tr_fail(sshrpc_transport *t, int code, uint32_t reason, const char *fmt, ...) SSHRPC_PRINTF(4, 5);
void sshrpc_tr_log(sshrpc_transport *t, int level, const char *fmt, ...) SSHRPC_PRINTF(3, 4);
const char *sshrpc_tr_msg_name(uint8_t type);
uint64_t sshrpc_tr_clock(sshrpc_transport *t);
void sshrpc_tr_trace_packet(sshrpc_transport *t, bool out, uint32_t seq, uint8_t type, size_t payload, size_t padding,
	size_t mac, size_t wire);
void sshrpc_tr_trace_kex(sshrpc_transport *t, const char *step, uint64_t ns);

/* version.c: consumes version-exchange lines from the input. */
int sshrpc_tr_version_input(sshrpc_transport *t);

/* packet_in.c: the next packet's payload, decrypted in place. */
int sshrpc_tr_packet_next(sshrpc_transport *t, uint8_t **payload, size_t *len);
void sshrpc_tr_input_compact(sshrpc_transport *t);

/* packet_out.c */
/* Starts a transport message in the output buffer (never queued): *w is
 * the output buffer, positioned after the header and the message number. */
int sshrpc_tr_send_begin(sshrpc_transport *t, uint8_t type, sshrpc_buf **w, size_t *mark);
int sshrpc_tr_send_end(sshrpc_transport *t, size_t mark);
/* Encrypts and MACs (or seals) a framed packet of total bytes (length field
 * included) in place with c at its current sequence number; the MAC or
 * tag goes after it. Does not advance the sequence number. */
int sshrpc_tr_seal(tr_crypt *c, uint8_t *pkt, size_t total);
/* A whole transport message from a payload (message number included). */
int sshrpc_tr_send_payload(sshrpc_transport *t, const uint8_t *payload, size_t len);
int sshrpc_tr_flush_pending(sshrpc_transport *t);
int sshrpc_tr_io_begin(void *ctx, uint8_t type, sshrpc_buf **w);
int sshrpc_tr_io_end(void *ctx);
/* Installs new keys for one direction (NEWKEYS). */
int sshrpc_tr_crypt_install(sshrpc_transport *t, tr_crypt *c, const tr_dir_keys *k, sshrpc_direction dir);
void sshrpc_tr_crypt_free(tr_crypt *c);

/* kexinit.c */
int sshrpc_tr_kexinit_send(sshrpc_transport *t);
int sshrpc_tr_kexinit_recv(sshrpc_transport *t, const uint8_t *msg, size_t len);

/* kex.c */
int sshrpc_tr_kex_start(sshrpc_transport *t);
int sshrpc_tr_kex_message(sshrpc_transport *t, const uint8_t *msg, size_t len);
int sshrpc_tr_kex_newkeys_recv(sshrpc_transport *t, const uint8_t *msg, size_t len);
int sshrpc_tr_kex_begin_method(sshrpc_transport *t);
void sshrpc_tr_kex_reset(sshrpc_transport *t);
int sshrpc_tr_kex_send_newkeys(sshrpc_transport *t);

/* kex_ecdh.c / kex_dh.c / kex_gex.c: method messages */
int sshrpc_tr_kex_client_init(sshrpc_transport *t);
int sshrpc_tr_kex_server_init(sshrpc_transport *t, const uint8_t *msg, size_t len);
int sshrpc_tr_kex_client_reply(sshrpc_transport *t, const uint8_t *msg, size_t len);
int sshrpc_tr_gex_client_request(sshrpc_transport *t);
int sshrpc_tr_gex_server_request(sshrpc_transport *t, const uint8_t *msg, size_t len);
int sshrpc_tr_gex_client_group(sshrpc_transport *t, const uint8_t *msg, size_t len);
/* Picks a group for the client's (min, n, max) from the built-in groups
 * and cfg.moduli. */
int sshrpc_tr_gex_choose(const sshrpc_transport *t, uint32_t min, uint32_t n, uint32_t max, const uint8_t **p,
	size_t *plen, const uint8_t **g, size_t *glen);

/* RFC 8308 §2.4, OpenSSH PROTOCOL §1.9, §1.11 */
#define SSH_MSG_PING 192
#define SSH_MSG_PONG 193

/* dispatch.c */
int sshrpc_tr_io_recv(void *ctx, const uint8_t **msg, size_t *len);
int sshrpc_tr_maybe_rekey(sshrpc_transport *t);

#endif
