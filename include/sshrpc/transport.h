/* sshrpc transport/: the SSH transport layer (RFC 4253 with RFC 4344, 5647,
 * 5656, 8268, 8308, 8731, 9142 and OpenSSH's PROTOCOL extensions) as a
 * sans-I/O engine. It never touches a socket or a clock: the driver moves
 * bytes between the network and the engine, and passes the time in.
 *
 * Network side (the driver):
 *   - bytes received go in with sshrpc_transport_feed() (or, without a copy,
 *     sshrpc_transport_input_buffer() + sshrpc_transport_input_commit());
 *     when the input buffer is full nothing is taken and the driver should
 *     stop reading the socket until the layer above has called recv again
 *     (backpressure);
 *   - bytes to send are all pending output, coalesced in one buffer:
 *     sshrpc_transport_output() / sshrpc_transport_output_consume();
 *   - sshrpc_transport_tick() passes the time for the time-based rekey.
 * Upper side (auth/, or a test): sshrpc_transport_io() gives the
 * sshrpc_msg_io of msgio.h. recv() processes queued input lazily, handles
 * every transport message itself and returns SERVICE_REQUEST/ACCEPT (5, 6)
 * and every message numbered 50 or above.
 *
 * The version line and our first KEXINIT are queued at creation, so a
 * driver writes output as soon as the engine exists. */
#ifndef SSHRPC_TRANSPORT_H
#define SSHRPC_TRANSPORT_H

#include <stdbool.h>

#include "sshrpc/common.h"
#include "sshrpc/crypto.h"
#include "sshrpc/msgio.h"
#include "sshrpc/wire.h"

typedef struct sshrpc_transport sshrpc_transport;

typedef enum sshrpc_role {
	SSHRPC_ROLE_CLIENT = 0,
	SSHRPC_ROLE_SERVER = 1,
} sshrpc_role;

typedef enum sshrpc_transport_state {
	SSHRPC_TRANSPORT_VERSION = 0, /* waiting for the peer's version line */
	SSHRPC_TRANSPORT_FIRST_KEX,   /* the initial key exchange runs */
	SSHRPC_TRANSPORT_ESTABLISHED, /* keys in use both ways (a rekey may run) */
	SSHRPC_TRANSPORT_CLOSED,      /* DISCONNECT sent or received, or a fatal error */
} sshrpc_transport_state;

/* The RFC 4253 §6.1 floor for the maximum packet size, and our default. */
#define SSHRPC_TRANSPORT_MIN_PACKET 35000u
#define SSHRPC_TRANSPORT_DEFAULT_PACKET (256u * 1024u)
/* A rekey limit meaning "never" (OpenSSH's RekeyLimit "none"). */
#define SSHRPC_REKEY_NEVER UINT64_MAX

/* Client host-key check: called once the server's signature over the
 * exchange hash verified, with the key and the negotiated host key
 * algorithm. SSHRPC_OK accepts; any negative value refuses and the
 * transport disconnects with HOST_KEY_NOT_VERIFIABLE. A known_hosts
 * lookup lives in this callback (the programs provide it). */
typedef int (*sshrpc_hostkey_check_fn)(void *ud, const sshrpc_key *key, const char *alg);
/* Accepts any host key (StrictHostKeyChecking=no; tests). */
int sshrpc_transport_hostkey_accept_any(void *ud, const sshrpc_key *key, const char *alg);

/* One JSON object per call, without a newline: the programs write it as a
 * line of their --trace FILE. Keys:
 *   packets: {"ev":"pkt","t":MS,"dir":"in"|"out","seq":N,"msg":N,"name":"…",
 *             "payload":N,"padding":N,"mac":N,"wire":N}
 *   kex steps: {"ev":"kex","t":MS,"step":"keygen"|"shared_secret"|
 *             "exchange_hash"|"sign"|"verify"|"derive"|"done","alg":"…","ns":N}
 * (ns is 0 when no clock_ns callback was configured). */
typedef void (*sshrpc_trace_fn)(void *ud, const char *json, size_t len);

/* Diffie-Hellman group-exchange moduli for the server (RFC 4419 §3), parsed
 * from the text of an OpenSSH moduli file. Immutable once made: one set can
 * serve every connection of a server. */
typedef struct sshrpc_moduli sshrpc_moduli;
/* Parses moduli(5) text: "time type tests tries size generator modulus"
 * lines, '#' comments. Lines for unsafe primes (type other than 2) and
 * moduli outside 1024..8192 bits are skipped, malformed lines are
 * errors naming the line. */
SSHRPC_MUST_USE int sshrpc_moduli_parse(
	const sshrpc_alloc *a, const char *text, size_t len, sshrpc_moduli **out, sshrpc_err *err);
size_t sshrpc_moduli_count(const sshrpc_moduli *m);
void sshrpc_moduli_free(sshrpc_moduli *m);

/* Everything a transport is made from. Zero-initialised fields take the
 * documented defaults, so `sshrpc_transport_config c = {0};` is a client
 * with the secure modern algorithm set. All pointers are borrowed and must
 * outlive the transport. */
typedef struct sshrpc_transport_config {
	sshrpc_role role;
	const sshrpc_alloc *alloc; /* NULL: malloc */

	/* Our version line without CR LF; NULL: "SSH-2.0-sshrpc_" SSHRPC_VERSION.
	 * It must start with "SSH-2.0-" and fit in 253 characters. */
	const char *version;

	/* Comma-separated algorithm lists in order of preference, NULL for the
	 * defaults (every non-legacy algorithm built). Names we did not build
	 * are an error. sshrpc_algs_resolve() turns OpenSSH-style +/-/^ specs
	 * into such lists. */
	const char *kex_algs;
	const char *hostkey_algs;
	const char *ciphers;
	const char *macs;

	/* Server: host keys with their private halves. The host key
	 * algorithms offered are those of hostkey_algs whose key type is
	 * among these keys (an RSA key gives rsa-sha2-512 and rsa-sha2-256,
	 * and ssh-rsa when named). */
	sshrpc_key *const *host_keys;
	size_t n_host_keys;

	/* Client: the host-key check. NULL refuses every key. */
	sshrpc_hostkey_check_fn hostkey_check;
	void *hostkey_check_ud;

	/* Largest packet_length accepted (RFC 4253 §6.1); 0: 256 KiB. Values
	 * below 35000 are raised to 35000. */
	uint32_t max_packet;

	/* Rekey after this many bytes in either direction under one key;
	 * 0: the RFC 4344 §3.2 bound of the cipher, capped at 1 GiB;
	 * SSHRPC_REKEY_NEVER: no data limit. The cipher's bound applies even
	 * when a larger value is given. */
	uint64_t rekey_bytes;
	/* Rekey after this much time under one key; 0: one hour;
	 * SSHRPC_REKEY_NEVER: no time limit. */
	uint64_t rekey_interval_ms;

	/* Strict kex (OpenSSH PROTOCOL §1.10) and ext-info (RFC 8308) are on
	 * unless turned off here. */
	bool no_strict_kex;
	bool no_ext_info;

	/* Server: the value of server-sig-algs in EXT_INFO (the signature
	 * algorithms auth accepts); NULL: every non-legacy one built. */
	const char *server_sig_algs;

	/* Server, group exchange: groups in addition to the built-in MODP
	 * groups 14, 16 and 18 (RFC 3526). */
	const sshrpc_moduli *moduli;
	/* Client, group exchange: min and max modulus sizes in bits;
	 * 0: 2048 and 8192 (RFC 8270). */
	uint32_t gex_min_bits;
	uint32_t gex_max_bits;

	/* Bound on upper-layer messages waiting during a key exchange, in
	 * bytes; 0: 1 MiB. begin() answers SSHRPC_E_WOULDBLOCK above it. */
	size_t pending_limit;
	/* Bound on output not yet taken by the driver, in bytes; 0: 4 MiB.
	 * begin() answers SSHRPC_E_WOULDBLOCK above it; the transport's own
	 * messages always go out. */
	size_t output_limit;

	sshrpc_log_fn log;
	void *log_ud;
	int log_level; /* SSHRPC_LOG_*; messages above it are not produced */

	sshrpc_trace_fn trace;
	void *trace_ud;
	/* Monotonic nanoseconds, used only to time kex steps for the trace. */
	uint64_t (*clock_ns)(void *ud);
	void *clock_ud;

	/* The time at creation, in milliseconds of the driver's clock. */
	uint64_t now_ms;
} sshrpc_transport_config;

/* Makes a transport and queues the version line and KEXINIT. On failure
 * *out is NULL and err (may be NULL) says why. */
SSHRPC_MUST_USE int sshrpc_transport_new(const sshrpc_transport_config *cfg, sshrpc_transport **out, sshrpc_err *err);
/* Frees everything, wiping keys. NULL is fine. */
void sshrpc_transport_free(sshrpc_transport *t);

/* ---- network side ------------------------------------------------------ */

/* Copies received bytes in. *taken says how many were taken: all of them,
 * some, or none — with SSHRPC_E_WOULDBLOCK when the input buffer is full
 * (call recv on the upper side, then feed the rest). SSHRPC_E_CLOSED after
 * the session closed. */
SSHRPC_MUST_USE int sshrpc_transport_feed(sshrpc_transport *t, const uint8_t *p, size_t n, size_t *taken);
/* Zero-copy input: where the driver may read up to *room bytes into, then
 * commit what it read. *room is 0 when the buffer is full. */
uint8_t *sshrpc_transport_input_buffer(sshrpc_transport *t, size_t *room);
SSHRPC_MUST_USE int sshrpc_transport_input_commit(sshrpc_transport *t, size_t n);
/* The peer closed its side: once the buffered packets are processed, recv
 * reports SSHRPC_E_CLOSED (CONNECTION_LOST). */
void sshrpc_transport_input_eof(sshrpc_transport *t);

/* All pending output in one span (NULL, 0 when none). */
const uint8_t *sshrpc_transport_output(sshrpc_transport *t, size_t *len);
void sshrpc_transport_output_consume(sshrpc_transport *t, size_t n);

/* Passes the time; starts a rekey when the time limit passed. */
SSHRPC_MUST_USE int sshrpc_transport_tick(sshrpc_transport *t, uint64_t now_ms);
/* When tick next has something to do (UINT64_MAX: never). */
uint64_t sshrpc_transport_next_deadline(const sshrpc_transport *t);

/* ---- upper side ---------------------------------------------------------- */

/* The message pipe for the layer above. recv handles transport messages
 * (KEXINIT..NEWKEYS, 30-49, IGNORE, DEBUG, UNIMPLEMENTED, DISCONNECT,
 * EXT_INFO) and returns the others. begin/end build a packet in place in
 * the output buffer; during a key exchange they wait in order and go out
 * after NEWKEYS (RFC 4253 §7.1). begin(SSH_MSG_UNIMPLEMENTED) followed by
 * end() with nothing appended sends UNIMPLEMENTED for the last message recv
 * returned (RFC 4253 §11.4), so layers above need no sequence numbers. */
sshrpc_msg_io sshrpc_transport_io(sshrpc_transport *t);

/* Starts a key re-exchange now (SSHRPC_E_STATE when one runs or the first
 * has not finished). */
SSHRPC_MUST_USE int sshrpc_transport_rekey(sshrpc_transport *t);
/* Sends SSH_MSG_IGNORE with n bytes of random data (traffic shaping, tests
 * of the data-based rekey). */
SSHRPC_MUST_USE int sshrpc_transport_send_ignore(sshrpc_transport *t, size_t n);
/* Client: sends SSH2_MSG_PING (OpenSSH PROTOCOL §1.9) when the server
 * advertised ping@openssh.com (else SSHRPC_E_UNSUPPORTED); the PONG is
 * consumed by the transport. Both roles answer PINGs themselves. */
SSHRPC_MUST_USE int sshrpc_transport_ping(sshrpc_transport *t, const void *data, size_t n);
/* Sends SSH_MSG_DISCONNECT and closes (same as the io's disconnect). */
SSHRPC_MUST_USE int sshrpc_transport_disconnect(sshrpc_transport *t, uint32_t reason, const char *description);

/* ---- accessors -------------------------------------------------------------- */

typedef struct sshrpc_transport_algs {
	const char *kex;
	const char *hostkey;
	const char *cipher_c2s, *cipher_s2c;
	const char *mac_c2s, *mac_s2c; /* "<implicit>" with an AEAD cipher */
	const char *comp_c2s, *comp_s2c;
	bool strict_kex;
	bool ext_info; /* client offered ext-info-c (server), EXT_INFO seen (client) */
} sshrpc_transport_algs;

typedef struct sshrpc_transport_stats {
	uint64_t packets_in, packets_out;
	uint64_t bytes_in, bytes_out;	  /* on the wire, version line included */
	uint64_t payload_in, payload_out; /* packet payloads */
	uint32_t kex_count;		  /* completed key exchanges */
} sshrpc_transport_stats;

sshrpc_transport_state sshrpc_transport_get_state(const sshrpc_transport *t);
sshrpc_role sshrpc_transport_role(const sshrpc_transport *t);
/* true while a key exchange runs (from a KEXINIT sent or received to both
 * NEWKEYS). */
bool sshrpc_transport_in_kex(const sshrpc_transport *t);
/* The session identifier (H of the first kex), NULL before it. */
const uint8_t *sshrpc_transport_session_id(const sshrpc_transport *t, size_t *len);
/* H of the latest kex. */
const uint8_t *sshrpc_transport_exchange_hash(const sshrpc_transport *t, size_t *len);
/* Negotiated algorithms of the latest kex (names NULL before one). */
const sshrpc_transport_algs *sshrpc_transport_get_algs(const sshrpc_transport *t);
/* The peer's version line without CR LF, NULL before it arrived. */
const char *sshrpc_transport_peer_version(const sshrpc_transport *t);
/* Client: the server's host key once verified. */
const sshrpc_key *sshrpc_transport_server_host_key(const sshrpc_transport *t);
/* Client: server-sig-algs of the server's EXT_INFO (RFC 8308 §3.1), NULL
 * when none was received. */
const char *sshrpc_transport_server_sig_algs(const sshrpc_transport *t);
const sshrpc_transport_stats *sshrpc_transport_get_stats(const sshrpc_transport *t);
/* The first error (sticky); code 0 when none. */
const sshrpc_err *sshrpc_transport_error(const sshrpc_transport *t);
/* Sequence number of the last packet recv returned. */
uint32_t sshrpc_transport_last_seqnr(const sshrpc_transport *t);

/* ---- algorithm lists ------------------------------------------------------ */

typedef enum sshrpc_alg_kind {
	SSHRPC_ALG_KEX,
	SSHRPC_ALG_HOSTKEY, /* host key (and signature) algorithms */
	SSHRPC_ALG_CIPHER,
	SSHRPC_ALG_MAC,
} sshrpc_alg_kind;

/* Every algorithm of a kind that was built, in our order of preference
 * (legacy ones included), comma-separated, and the default list. */
const char *sshrpc_algs_all(sshrpc_alg_kind kind, char *out, size_t cap);
const char *sshrpc_algs_default(sshrpc_alg_kind kind, char *out, size_t cap);
/* Resolves an OpenSSH-style list (ssh_config(5) "Ciphers"): a plain list
 * replaces the default; "+list" appends to it; "-list" removes from it
 * (names or wildcard patterns with * and ?); "^list" puts the list first.
 * In plain, + and ^ lists, patterns expand to the matching built names.
 * Legacy algorithms come only when named. Writes a comma-separated list
 * into out. Unknown names and empty results are errors naming them. */
SSHRPC_MUST_USE int sshrpc_algs_resolve(sshrpc_alg_kind kind, const char *spec, char *out, size_t cap, sshrpc_err *err);

/* Parses OpenSSH's RekeyLimit value: "default" or a size with an optional
 * K/M/G suffix, optionally followed by "none" or a time with an optional
 * s/m/h/d/w suffix ("1G 1h", "500M", "default none"). Fills the two
 * config fields. */
SSHRPC_MUST_USE int sshrpc_rekey_limit_parse(const char *s, uint64_t *bytes, uint64_t *interval_ms, sshrpc_err *err);

#endif
