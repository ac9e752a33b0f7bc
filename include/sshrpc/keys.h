/* sshrpc auth/: key files and the ssh-agent protocol, all parsed from bytes.
 *
 *   - base64 (RFC 4648 §4), used by every text format below;
 *   - public keys in OpenSSH's one-line form ("ssh-ed25519 AAAA... comment")
 *     and in RFC 4716 form ("---- BEGIN SSH2 PUBLIC KEY ----");
 *   - private keys in openssh-key-v1 (PROTOCOL.key: unencrypted, or
 *     bcrypt_pbkdf + aes256-ctr / aes256-cbc / aes256-gcm@openssh.com) and in
 *     PEM (through crypto's sshrpc_key_from_pem);
 *   - writing an unencrypted openssh-key-v1 file (host keys);
 *   - the client half of the ssh-agent protocol (draft-miller-ssh-agent-17),
 *     sans-I/O: messages are built and parsed here, the program moves them
 *     over SSH_AUTH_SOCK;
 *   - one thin file convenience (auth/keyfile_io.c): read a key file into
 *     bytes, refusing private keys that others can read, as OpenSSH does.
 *
 * Errors name the file (the `name` argument: a path or any label) and the
 * reason in err->msg, in one line, e.g.
 *   "id_ed25519: wrong passphrase"
 *   "id_dsa: unsupported key type ssh-dss"
 *   "id_rsa: corrupt key file: truncated private section". */
#ifndef SSHRPC_KEYS_H
#define SSHRPC_KEYS_H

#include <stdbool.h>

#include "sshrpc/common.h"
#include "sshrpc/crypto.h"
#include "sshrpc/wire.h"

/* ---- base64 ------------------------------------------------------------ */

/* Appends the base64 text of p (with '=' padding) to out. */
SSHRPC_MUST_USE int sshrpc_base64_encode(const uint8_t *p, size_t n, sshrpc_buf *out);
/* Decodes base64 text, appending the bytes to out. Whitespace (space, tab,
 * CR, LF) is skipped; padding is optional but, when present, must be right.
 * SSHRPC_E_INVALID on any other character or a bad length. */
SSHRPC_MUST_USE int sshrpc_base64_decode(const char *s, size_t n, sshrpc_buf *out);

/* ---- public keys --------------------------------------------------------- */

/* "SHA256:<unpadded base64 of SHA-256(blob)>", as ssh-keygen -l prints it.
 * cap of 64 bytes is always enough. */
SSHRPC_MUST_USE int sshrpc_key_fingerprint(const sshrpc_key *k, char *out, size_t cap);

/* Parses a public key file's bytes: OpenSSH one-line form (the first line
 * that is neither blank nor a # comment) or RFC 4716 form. The comment (the
 * rest of the line, or RFC 4716's Comment header) is copied into comment
 * (truncated to cap-1) when comment is non-NULL. */
SSHRPC_MUST_USE int sshrpc_pubkey_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	sshrpc_key **out, char *comment, size_t comment_cap, sshrpc_err *err);
/* One OpenSSH line "type base64 [comment]" (no options). The type word must
 * match the type inside the blob. *rest points after the blob's word
 * (leading blanks skipped), into line. */
SSHRPC_MUST_USE int sshrpc_pubkey_parse_line(
	const sshrpc_alloc *a, const char *line, size_t len, sshrpc_key **out, const char **rest, size_t *rest_len);
/* Appends "type base64[ comment]\n". */
SSHRPC_MUST_USE int sshrpc_pubkey_format(const sshrpc_key *k, const char *comment, sshrpc_buf *out);

/* ---- private keys ------------------------------------------------------- */

typedef enum sshrpc_keyfile_format {
	SSHRPC_KEYFILE_UNKNOWN = 0,
	SSHRPC_KEYFILE_OPENSSH, /* -----BEGIN OPENSSH PRIVATE KEY----- */
	SSHRPC_KEYFILE_PEM,	/* any other -----BEGIN ... PRIVATE KEY----- */
} sshrpc_keyfile_format;

sshrpc_keyfile_format sshrpc_privkey_format(const uint8_t *data, size_t len);
/* true when loading the file needs a passphrase (openssh-key-v1 with a
 * cipher other than "none", PKCS#8 "ENCRYPTED PRIVATE KEY", or a PEM
 * "Proc-Type: 4,ENCRYPTED" header). */
bool sshrpc_privkey_is_encrypted(const uint8_t *data, size_t len);

/* Loads a private key. passphrase may be NULL (or "") for an unencrypted
 * key. SSHRPC_E_PASSPHRASE when the key is encrypted and the passphrase is
 * missing or wrong, SSHRPC_E_UNSUPPORTED for a key type or cipher we lack,
 * SSHRPC_E_INVALID / SSHRPC_E_TRUNCATED for a corrupt file; err names the
 * file and the reason. comment as for sshrpc_pubkey_parse (openssh-key-v1
 * stores one; PEM does not, so it is set to ""). */
SSHRPC_MUST_USE int sshrpc_privkey_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	const char *passphrase, sshrpc_key **out, char *comment, size_t comment_cap, sshrpc_err *err);
/* The public half of a private key file without its passphrase: the
 * openssh-key-v1 header carries it in clear. For PEM only an unencrypted
 * file can give it (SSHRPC_E_PASSPHRASE otherwise: use the .pub file). */
SSHRPC_MUST_USE int sshrpc_privkey_public(
	const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len, sshrpc_key **out, sshrpc_err *err);
/* Writes k (which must hold its private half) as an unencrypted
 * openssh-key-v1 PEM-armoured file, the form `ssh-keygen` writes and reads
 * back (`ssh-keygen -y -f FILE`). */
SSHRPC_MUST_USE int sshrpc_privkey_write_openssh(const sshrpc_key *k, const char *comment, sshrpc_buf *out);

/* ---- file convenience (auth/keyfile_io.c; left out of firmware builds) --- */

/* At most this many bytes are read from a key, authorized_keys or
 * known_hosts file. */
#define SSHRPC_KEYFILE_MAX ((size_t)4 * 1024 * 1024)

/* Reads a whole file into *data (allocated with a; free with
 * sshrpc_keyfile_free). With private_key, refuses (SSHRPC_E_DENIED) a file
 * that group or others may read or write when it belongs to the current
 * user, as OpenSSH does: "PATH: permissions 0644 are too open: a private
 * key must be readable by its owner only (chmod 600 PATH)". SSHRPC_E_IO with
 * the system's reason otherwise. */
SSHRPC_MUST_USE int sshrpc_keyfile_read(
	const sshrpc_alloc *a, const char *path, bool private_key, uint8_t **data, size_t *len, sshrpc_err *err);
/* Wipes and frees what sshrpc_keyfile_read returned. */
void sshrpc_keyfile_free(const sshrpc_alloc *a, uint8_t *data, size_t len);
/* Creates path (it must not exist) with the given mode (0600 for a private
 * key) and writes data to it. */
SSHRPC_MUST_USE int sshrpc_keyfile_write_new(
	const char *path, const uint8_t *data, size_t len, unsigned mode, sshrpc_err *err);

/* ---- ssh-agent protocol (client side) ------------------------------------ */

enum {
	SSH_AGENT_FAILURE = 5,
	SSH_AGENT_SUCCESS = 6,
	SSH_AGENTC_REQUEST_IDENTITIES = 11,
	SSH_AGENT_IDENTITIES_ANSWER = 12,
	SSH_AGENTC_SIGN_REQUEST = 13,
	SSH_AGENT_SIGN_RESPONSE = 14,
	SSH_AGENT_EXTENSION_FAILURE = 28,
};
/* SIGN_REQUEST flags (draft-miller-ssh-agent-17 §4.5.1). */
#define SSHRPC_AGENT_RSA_SHA2_256 0x02u
#define SSHRPC_AGENT_RSA_SHA2_512 0x04u
/* Replies larger than this are refused (OpenSSH's agent limit is 256 KiB). */
#define SSHRPC_AGENT_MAX_MSG ((size_t)256 * 1024)

/* Append a whole framed request (uint32 length, then the message). */
SSHRPC_MUST_USE int sshrpc_agent_request_identities(sshrpc_buf *out);
SSHRPC_MUST_USE int sshrpc_agent_sign_request(sshrpc_buf *out, const uint8_t *key_blob, size_t blob_len,
	const uint8_t *data, size_t data_len, uint32_t flags);
/* The flags that make an agent sign with signature algorithm alg. */
uint32_t sshrpc_agent_sign_flags(const char *alg);

/* Looks at received bytes: SSHRPC_OK and *msg and *msg_len (the message after
 * its length prefix, starting with the type byte) when a whole reply is
 * there, *consumed set to the bytes it spans; SSHRPC_E_AGAIN when more
 * bytes are needed; SSHRPC_E_TOO_LARGE / SSHRPC_E_INVALID for a length
 * over SSHRPC_AGENT_MAX_MSG or zero. */
SSHRPC_MUST_USE int sshrpc_agent_reply(
	const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len, size_t *consumed);

typedef struct sshrpc_agent_key {
	const uint8_t *blob; /* borrowed from the reply */
	size_t blob_len;
	const uint8_t *comment;
	size_t comment_len;
} sshrpc_agent_key;

/* Parses IDENTITIES_ANSWER. Each key is passed to cb (borrowed pointers,
 * valid while msg is); cb returning non-zero stops the walk with that
 * value. SSHRPC_E_DENIED when the agent answered FAILURE, SSHRPC_E_INVALID
 * for anything malformed (the count must match what follows). */
SSHRPC_MUST_USE int sshrpc_agent_parse_identities(
	const uint8_t *msg, size_t len, int (*cb)(void *ud, const sshrpc_agent_key *k), void *ud, size_t *count);
/* Parses SIGN_RESPONSE: *sig and *sig_len is the SSH signature encoding
 * (string alg, string blob), borrowed from msg. */
SSHRPC_MUST_USE int sshrpc_agent_parse_sign_response(
	const uint8_t *msg, size_t len, const uint8_t **sig, size_t *sig_len);

#endif
