/* sshrpc auth/: the ssh-userauth service (RFC 4252, RFC 4256) in both roles,
 * authorized_keys and known_hosts, sans-I/O.
 *
 * Stack position (architecture.md, "Layers"): a client or server object
 * takes the sshrpc_msg_io that transport offers (transport passes up
 * SERVICE_REQUEST, SERVICE_ACCEPT and every message >= 50) and offers its
 * own sshrpc_msg_io (sshrpc_auth_*_io) to the connection layer. Through it,
 * once authentication succeeded, messages >= 80 pass both ways; before
 * that, recv answers SSHRPC_E_AGAIN and begin SSHRPC_E_STATE.
 *
 * Driving: call sshrpc_auth_*_process() whenever transport may have
 * messages (or simply call the upward recv, which does the same), and
 * sshrpc_auth_server_tick(now_ms) when sshrpc_auth_server_next_deadline()
 * passes (LoginGraceTime). Callbacks are synchronous: a program that must
 * ask a user or talk to ssh-agent does so inside the callback.
 *
 * Session identifier (RFC 4252 §7 signs over it): both roles obtain it
 * through the session_id callback of their configuration, called each time
 * a signature is made or checked — after the first key exchange the
 * program answers with transport's session identifier. The auth layer never
 * caches it. */
#ifndef SSHRPC_AUTH_H
#define SSHRPC_AUTH_H

#include <stdbool.h>

#include "sshrpc/common.h"
#include "sshrpc/crypto.h"
#include "sshrpc/keys.h"
#include "sshrpc/msgio.h"
#include "sshrpc/wire.h"

/* Method-specific message numbers (RFC 4252 §7, §8; RFC 4256 §5). */
enum {
	SSH_MSG_USERAUTH_PK_OK = 60,
	SSH_MSG_USERAUTH_PASSWD_CHANGEREQ = 60,
	SSH_MSG_USERAUTH_INFO_REQUEST = 60,
};

/* Limits on what a peer may send (RFC 4252 leaves them to us). */
#define SSHRPC_AUTH_USER_MAX 256      /* user name bytes */
#define SSHRPC_AUTH_PASSWORD_MAX 1024 /* password / response bytes */
#define SSHRPC_AUTH_BLOB_MAX 16384    /* public key blob or signature bytes */
#define SSHRPC_KBDINT_MAX_PROMPTS 16
#define SSHRPC_AUTH_TEXT_MAX 2048 /* banner, name, instruction, prompt */

/* ======================================================================
 * Patterns (OpenSSH's match.c semantics, written afresh)
 * ====================================================================== */

/* Wildcard match: '*' any run, '?' any one character. nocase folds ASCII. */
bool sshrpc_match_pattern(const char *s, size_t slen, const char *pat, size_t plen, bool nocase);
/* A comma-separated list of patterns, each optionally negated with '!'.
 * Returns 1 when some positive pattern matches and no negated one does,
 * -1 when a negated pattern matches, 0 when nothing matches. */
int sshrpc_match_list(const char *s, size_t slen, const char *list, size_t llen, bool nocase);
/* An IPv4 or IPv6 address against "addr/bits" (or a bare address).
 * Returns 1 on match, 0 on no match, negative when addr or cidr is not an
 * address. */
int sshrpc_match_cidr(const char *addr, const char *cidr, size_t cidr_len);
/* from= semantics: the list may hold host name patterns, address patterns
 * and CIDR blocks, each possibly negated. host may be NULL. 1 / -1 / 0 as
 * sshrpc_match_list. */
int sshrpc_match_host_and_addr(const char *host, const char *addr, const char *list, size_t llen);

/* ======================================================================
 * authorized_keys (sshd(8) "AUTHORIZED_KEYS FILE FORMAT", plus rpc-allow=
 * and rpc-deny= from interface.md "Access control")
 * ====================================================================== */

typedef struct sshrpc_authkeys_opts {
	/* "restrict" given: everything below that permits is off unless
	 * re-enabled by its positive option (pty, port-forwarding, ...). */
	bool restrict_all;
	bool no_pty;
	bool no_port_forwarding;
	bool no_agent_forwarding;
	bool no_x11_forwarding;
	bool no_user_rc;
	bool no_touch_required; /* security-key options: accepted, no effect here */
	bool verify_required;
	bool has_expiry;
	bool expiry_local;	  /* written without a trailing Z: local time (ctx) */
	uint64_t expiry_time;	  /* seconds since the epoch, read as UTC */
	const char *command;	  /* command="..." (unescaped) or NULL */
	const char *from;	  /* from="pattern-list" or NULL */
	const char *tunnel;	  /* tunnel="n" or NULL */
	const char *principals;	  /* only meaningful with certificates; kept */
	const char *rpc_allow;	  /* rpc-allow="..." as written, or NULL */
	const char *rpc_deny;	  /* rpc-deny="..." or NULL */
	const char **environment; /* environment="NAME=value", in order */
	size_t n_environment;
	const char **permitopen; /* permitopen="host:port" */
	size_t n_permitopen;
	const char **permitlisten;
	size_t n_permitlisten;
} sshrpc_authkeys_opts;

typedef struct sshrpc_authkeys_entry {
	unsigned line; /* 1-based line number in its file */
	sshrpc_key *key;
	const char *comment; /* "" when none */
	sshrpc_authkeys_opts opts;
} sshrpc_authkeys_entry;

typedef struct sshrpc_authkeys sshrpc_authkeys;

/* Parses a whole authorized_keys file. Every line is read: blank lines and
 * # comments are skipped; a malformed line, an unknown option, a key type
 * we lack or a cert-authority line (certificates are not supported) is
 * skipped with a warning through log naming name and line, e.g.
 * "authorized_keys:7: bad option 'no-such-option'; line skipped".
 * Fails only on allocation failure. */
SSHRPC_MUST_USE int sshrpc_authkeys_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	sshrpc_log_fn log, void *log_ud, sshrpc_authkeys **out);
void sshrpc_authkeys_free(sshrpc_authkeys *ak);
size_t sshrpc_authkeys_count(const sshrpc_authkeys *ak);
const sshrpc_authkeys_entry *sshrpc_authkeys_get(const sshrpc_authkeys *ak, size_t i);

/* What a lookup knows about the connection. */
typedef struct sshrpc_authkeys_ctx {
	const char *remote_addr; /* textual IP address of the client, or NULL */
	const char *remote_host; /* its name if resolved (for from= name patterns), or NULL */
	uint64_t now_s;		 /* current time, seconds since the epoch */
	/* expiry-time without a trailing Z is local time in sshd; the caller
	 * passes its offset from UTC (seconds east) since this layer reads no
	 * time zone data. */
	int32_t utc_offset_s;
} sshrpc_authkeys_ctx;

/* Finds the first entry whose key equals key and whose options admit the
 * connection (expiry-time not passed, from= matched). SSHRPC_E_DENIED when
 * none; then why (when non-NULL, cap bytes) tells the reason of the last
 * refused candidate, for the server's log ("expiry-time passed",
 * "from= not matched", "key not listed"). */
SSHRPC_MUST_USE int sshrpc_authkeys_lookup(const sshrpc_authkeys *ak, const sshrpc_key *key,
	const sshrpc_authkeys_ctx *ctx, const sshrpc_authkeys_entry **entry, char *why, size_t why_cap);

/* Deep copy of an entry (and its key) through a; free with
 * sshrpc_authkeys_entry_free. */
SSHRPC_MUST_USE int sshrpc_authkeys_entry_copy(
	const sshrpc_alloc *a, const sshrpc_authkeys_entry *e, sshrpc_authkeys_entry **out);
void sshrpc_authkeys_entry_free(const sshrpc_alloc *a, sshrpc_authkeys_entry *e);

/* ======================================================================
 * known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT")
 * ====================================================================== */

typedef enum sshrpc_hostkey_status {
	SSHRPC_HOSTKEY_OK = 0,	/* a matching entry holds this key */
	SSHRPC_HOSTKEY_UNKNOWN, /* no entry holds a key of this type for the host */
	SSHRPC_HOSTKEY_CHANGED, /* the host has a different key of this type */
	SSHRPC_HOSTKEY_REVOKED, /* an @revoked line holds this key */
} sshrpc_hostkey_status;

typedef enum sshrpc_strict_hostkey {
	SSHRPC_STRICT_YES = 0,	  /* only known keys */
	SSHRPC_STRICT_ACCEPT_NEW, /* unknown hosts are added; changed keys refused */
	SSHRPC_STRICT_NO,	  /* unknown added, changed accepted with a warning */
} sshrpc_strict_hostkey;

typedef struct sshrpc_known_hosts sshrpc_known_hosts;

/* Parses a known_hosts file: plain host lists with patterns and '!'
 * negation, "[host]:port", hashed "|1|salt|hash" names, @revoked lines.
 * Malformed lines and @cert-authority lines (not supported) are skipped
 * with a warning naming name and line. */
SSHRPC_MUST_USE int sshrpc_known_hosts_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	sshrpc_log_fn log, void *log_ud, sshrpc_known_hosts **out);
void sshrpc_known_hosts_free(sshrpc_known_hosts *kh);

/* Checks key for host (a name or address as the user gave it) and port
 * (22 means the plain form, others "[host]:port"). *line (when non-NULL) is
 * the line of the deciding entry, 0 for UNKNOWN. */
sshrpc_hostkey_status sshrpc_known_hosts_check(
	const sshrpc_known_hosts *kh, const char *host, unsigned port, const sshrpc_key *key, unsigned *line);

/* StrictHostKeyChecking: SSHRPC_OK to go on (with *add set when the key
 * should be appended to the file), SSHRPC_E_HOSTKEY to refuse. REVOKED is
 * refused in every mode; CHANGED is refused unless mode is NO. err (may be
 * NULL) says why, with reason HOST_KEY_NOT_VERIFIABLE. */
SSHRPC_MUST_USE int sshrpc_known_hosts_decide(sshrpc_hostkey_status st, sshrpc_strict_hostkey mode, const char *host,
	unsigned port, bool *add, sshrpc_err *err);
/* Parses "yes"/"accept-new"/"no" (also "off" for no and "true"/"false"). */
SSHRPC_MUST_USE int sshrpc_strict_hostkey_parse(const char *s, sshrpc_strict_hostkey *mode);

/* Appends the line that records key for host:port ("host type base64\n",
 * "[host]:port ..." for ports other than 22, or a hashed "|1|salt|hash"
 * name when hashed, with a fresh random salt). */
SSHRPC_MUST_USE int sshrpc_known_hosts_line(
	const char *host, unsigned port, const sshrpc_key *key, bool hashed, sshrpc_buf *out);

/* ======================================================================
 * Identities (client side): how the client sees a key it may offer
 * ====================================================================== */

/* A small vtable, so that ssh-agent keys, plain and encrypted key files and
 * in-memory keys all fit. */
typedef struct sshrpc_auth_identity {
	const char *label;	 /* shown in messages: a file name, an agent comment */
	const uint8_t *pub_blob; /* public key blob, borrowed */
	size_t pub_len;
	void *ud;
	/* Makes the private half ready. Called only after the server answered
	 * PK_OK for this key, so an encrypted key's passphrase is asked only
	 * when the key would be accepted. NULL when there is nothing to load.
	 * A negative result skips this identity (the reason, in err, is logged
	 * and kept for the final error). */
	int (*load_private)(void *ud, sshrpc_err *err);
	/* Signs data with signature algorithm alg and appends the SSH
	 * signature encoding (string alg, string signature) to out. */
	int (*sign)(void *ud, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out);
} sshrpc_auth_identity;

/* An in-memory key (with its private half) as an identity. */
typedef struct sshrpc_key_identity {
	sshrpc_auth_identity id;
	const sshrpc_key *key; /* borrowed */
	sshrpc_buf blob;
} sshrpc_key_identity;
SSHRPC_MUST_USE int sshrpc_key_identity_init(sshrpc_key_identity *ki, const sshrpc_key *key, const char *label);
void sshrpc_key_identity_free(sshrpc_key_identity *ki);

/* Asks for a passphrase: label names the key, attempt counts from 1.
 * Writes a NUL-terminated passphrase into out; a negative result gives up
 * on the key. */
typedef int (*sshrpc_passphrase_fn)(void *ud, const char *label, unsigned attempt, char *out, size_t cap);

/* A private key file as an identity. The public half comes from the .pub
 * file's bytes when given, else from the file itself (openssh-key-v1 keeps
 * it in clear; an unencrypted PEM file too). The file is decrypted in
 * load_private, asking ask() up to 3 times when it is encrypted. */
typedef struct sshrpc_file_identity {
	sshrpc_auth_identity id;
	const sshrpc_alloc *alloc;
	char *name;
	uint8_t *data;
	size_t len;
	sshrpc_key *pub;
	sshrpc_key *priv;
	sshrpc_buf blob;
	sshrpc_passphrase_fn ask;
	void *ask_ud;
} sshrpc_file_identity;
/* name: a label for messages (the path). data/pub_data are copied. */
SSHRPC_MUST_USE int sshrpc_file_identity_init(sshrpc_file_identity *fi, const sshrpc_alloc *a, const char *name,
	const uint8_t *data, size_t len, const uint8_t *pub_data, size_t pub_len, sshrpc_passphrase_fn ask,
	void *ask_ud, sshrpc_err *err);
void sshrpc_file_identity_free(sshrpc_file_identity *fi);

/* One request/reply round trip with ssh-agent, done by the program:
 * send req (a framed request), read one framed reply and append it whole
 * (length prefix included) to reply. */
typedef int (*sshrpc_agent_transact_fn)(void *ud, const uint8_t *req, size_t req_len, sshrpc_buf *reply);

/* A key held by ssh-agent as an identity: sign builds SIGN_REQUEST with the
 * rsa-sha2 flag alg needs, calls transact, checks the reply's algorithm. */
typedef struct sshrpc_agent_identity {
	sshrpc_auth_identity id;
	const sshrpc_alloc *alloc;
	uint8_t *blob;
	size_t blob_len;
	char *comment;
	sshrpc_agent_transact_fn transact;
	void *transact_ud;
} sshrpc_agent_identity;
SSHRPC_MUST_USE int sshrpc_agent_identity_init(sshrpc_agent_identity *ai, const sshrpc_alloc *a,
	const sshrpc_agent_key *k, sshrpc_agent_transact_fn transact, void *transact_ud);
void sshrpc_agent_identity_free(sshrpc_agent_identity *ai);

/* The RSA signature algorithm to use with a server that announced
 * server_sig_algs (RFC 8308 §3.1; NULL when it sent no ext-info):
 * rsa-sha2-512, then rsa-sha2-256; ssh-rsa only when the server named
 * neither (or sent nothing: RFC 8332 §3.3). NULL when the server's list
 * rules out all three. For other key types: the key type's algorithm. */
const char *sshrpc_auth_choose_sigalg(sshrpc_key_type t, const char *server_sig_algs, size_t len);

/* ======================================================================
 * Keyboard-interactive (RFC 4256)
 * ====================================================================== */

/* What the server asks (borrowed strings; copied into the message at once). */
typedef struct sshrpc_kbdint_challenge {
	const char *name;
	const char *instruction;
	size_t n_prompts;
	struct {
		const char *text;
		bool echo;
	} prompts[SSHRPC_KBDINT_MAX_PROMPTS];
} sshrpc_kbdint_challenge;

/* One prompt as the client sees it; the callback writes a NUL-terminated
 * answer into response (response_cap bytes). */
typedef struct sshrpc_kbdint_prompt {
	const char *text; /* NUL-terminated, control characters filtered */
	bool echo;
	char *response;
	size_t response_cap;
} sshrpc_kbdint_prompt;

/* ======================================================================
 * Server
 * ====================================================================== */

/* Password check result beyond SSHRPC_OK / SSHRPC_E_DENIED: the password
 * is right but expired; the server answers PASSWD_CHANGEREQ (RFC 4252 §8)
 * and never accepts it (changing passwords is not supported). */
#define SSHRPC_AUTH_PASSWORD_EXPIRED 1

typedef struct sshrpc_auth_server_config {
	const sshrpc_alloc *alloc; /* NULL: the default */
	/* RFC 4252 §7: the session identifier from transport (see top). */
	int (*session_id)(void *ud, const uint8_t **id, size_t *len);
	/* OpenSSH AuthenticationMethods: "any" (or NULL) for any one enabled
	 * method, or space-separated lists of comma-separated methods that
	 * must all succeed in order, e.g. "publickey,password publickey,
	 * keyboard-interactive". Method names: none (only to allow no auth at
	 * all), publickey, password, keyboard-interactive (a ":submethod" is
	 * accepted and ignored). */
	const char *auth_methods;
	/* Publickey signature algorithms accepted (PubkeyAcceptedAlgorithms).
	 * NULL: ssh-ed25519, ecdsa-sha2-nistp256/384/521, rsa-sha2-512,
	 * rsa-sha2-256 (ssh-rsa only when listed). */
	const char *pubkey_algorithms;
	/* The service users may authenticate for; NULL: "ssh-connection". */
	const char *service;
	unsigned max_auth_tries; /* 0: 6 (MaxAuthTries) */
	uint64_t login_grace_ms; /* 0: 120000 (LoginGraceTime); UINT64_MAX: none */
	const char *banner;	 /* sent before the first answer, or NULL */
	/* Would this key be accepted for this user? SSHRPC_OK with *entry the
	 * matching authorized_keys entry (or NULL when the program's policy has
	 * none), SSHRPC_E_DENIED otherwise. Called for queries and for signed
	 * requests alike, and for unknown users as for known ones (the program
	 * must not answer faster for them). The entry is copied at success. */
	int (*pubkey_allowed)(void *ud, const char *user, const sshrpc_key *key, uint64_t now_ms,
		const sshrpc_authkeys_entry **entry);
	/* SSHRPC_OK, SSHRPC_E_DENIED or SSHRPC_AUTH_PASSWORD_EXPIRED. NULL
	 * disables the password method. */
	int (*password)(void *ud, const char *user, const char *password, size_t len);
	/* keyboard-interactive: kbdint_start fills ch for the first round
	 * (SSHRPC_OK) or refuses (SSHRPC_E_DENIED); kbdint_respond gets the
	 * answers (count checked against the prompts) and returns SSHRPC_OK
	 * (authenticated), SSHRPC_E_DENIED, or SSHRPC_E_AGAIN with ch filled
	 * for another round. Both NULL disables the method. */
	int (*kbdint_start)(void *ud, const char *user, const char *submethods, sshrpc_kbdint_challenge *ch);
	int (*kbdint_respond)(void *ud, const char *user, const char *const *responses, const size_t *lens, size_t n,
		sshrpc_kbdint_challenge *ch);
	void *ud;
	sshrpc_log_fn log;
	void *log_ud;
} sshrpc_auth_server_config;

typedef struct sshrpc_auth_server sshrpc_auth_server;

/* lower is copied. now_ms starts LoginGraceTime. SSHRPC_E_INVALID with err
 * set when the configuration is wrong (an unknown method name, a method
 * without its callback). */
SSHRPC_MUST_USE int sshrpc_auth_server_new(const sshrpc_auth_server_config *cfg, const sshrpc_msg_io *lower,
	uint64_t now_ms, sshrpc_auth_server **out, sshrpc_err *err);
void sshrpc_auth_server_free(sshrpc_auth_server *s);
/* Handles every message available from below until there is none
 * (SSHRPC_OK) or authentication succeeded (SSHRPC_OK, done() true; later
 * messages are left for the upward pipe). Negative when the session ended:
 * the DISCONNECT was sent and error() says why. */
SSHRPC_MUST_USE int sshrpc_auth_server_process(sshrpc_auth_server *s);
/* Tells the time; past the LoginGraceTime deadline the server disconnects
 * and returns SSHRPC_E_TIMEOUT. */
SSHRPC_MUST_USE int sshrpc_auth_server_tick(sshrpc_auth_server *s, uint64_t now_ms);
/* When tick must be called next; UINT64_MAX when no deadline is pending. */
uint64_t sshrpc_auth_server_next_deadline(const sshrpc_auth_server *s);
bool sshrpc_auth_server_done(const sshrpc_auth_server *s);
/* After success: the user name, the service, the methods that succeeded
 * ("publickey,password"), and the authorized_keys entry of the (last)
 * publickey step, or NULL. Its options (command=, rpc-allow=, ...) are the
 * program's to apply. */
const char *sshrpc_auth_server_user(const sshrpc_auth_server *s);
const char *sshrpc_auth_server_methods(const sshrpc_auth_server *s);
const sshrpc_authkeys_entry *sshrpc_auth_server_entry(const sshrpc_auth_server *s);
/* Failed attempts counted so far (for logs and tests). */
unsigned sshrpc_auth_server_failures(const sshrpc_auth_server *s);
/* The pipe offered to the connection layer. */
const sshrpc_msg_io *sshrpc_auth_server_io(sshrpc_auth_server *s);
const sshrpc_err *sshrpc_auth_server_error(const sshrpc_auth_server *s);

/* ======================================================================
 * Client
 * ====================================================================== */

typedef struct sshrpc_auth_client_config {
	const sshrpc_alloc *alloc;
	const char *user;
	const char *service; /* NULL: "ssh-connection" */
	int (*session_id)(void *ud, const uint8_t **id, size_t *len);
	/* The server's server-sig-algs (RFC 8308 §3.1) as transport received
	 * it: *list and *len, or false when the server sent no ext-info. NULL
	 * callback: treated as none sent. Asked when an RSA key is offered. */
	bool (*server_sig_algs)(void *ud, const char **list, size_t *len);
	/* Tried in order. */
	const sshrpc_auth_identity *identities;
	size_t n_identities;
	/* Writes a NUL-terminated password; negative to give up on the method.
	 * attempt counts from 1; at most password_tries (0: 3) attempts. */
	int (*password)(void *ud, const char *user, unsigned attempt, char *out, size_t cap);
	unsigned password_tries;
	/* Answers one INFO_REQUEST; negative to give up on the method. */
	int (*kbdint)(void *ud, const char *name, const char *instruction, sshrpc_kbdint_prompt *prompts, size_t n);
	/* The banner, control characters filtered (RFC 4252 §5.4). */
	void (*banner)(void *ud, const char *text);
	/* Methods in order of preference, comma-separated (OpenSSH's
	 * PreferredAuthentications). NULL: "publickey,keyboard-interactive,
	 * password". */
	const char *preferred;
	void *ud;
	sshrpc_log_fn log;
	void *log_ud;
} sshrpc_auth_client_config;

typedef struct sshrpc_auth_client sshrpc_auth_client;

SSHRPC_MUST_USE int sshrpc_auth_client_new(
	const sshrpc_auth_client_config *cfg, const sshrpc_msg_io *lower, sshrpc_auth_client **out, sshrpc_err *err);
void sshrpc_auth_client_free(sshrpc_auth_client *c);
/* Sends SERVICE_REQUEST on the first call, then handles every message
 * available. SSHRPC_OK when waiting or done; negative when authentication
 * failed for good (SSHRPC_E_DENIED: "Permission denied (publickey,
 * password)" plus the last reason, e.g. a wrong passphrase or a password
 * change the server demanded) or the session ended. */
SSHRPC_MUST_USE int sshrpc_auth_client_process(sshrpc_auth_client *c);
bool sshrpc_auth_client_done(const sshrpc_auth_client *c);
/* After success: the identity that authenticated (NULL when another
 * method did) and the methods used. */
const sshrpc_auth_identity *sshrpc_auth_client_identity(const sshrpc_auth_client *c);
const char *sshrpc_auth_client_methods(const sshrpc_auth_client *c);
const sshrpc_msg_io *sshrpc_auth_client_io(sshrpc_auth_client *c);
const sshrpc_err *sshrpc_auth_client_error(const sshrpc_auth_client *c);

#endif
