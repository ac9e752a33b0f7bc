/* Options with OpenSSH's names (interface.md): from -o Name=Value and from
 * sshd_config-style files. Parsing only; each program applies them. */
#ifndef SSHRPC_PROGRAMS_OPTIONS_H
#define SSHRPC_PROGRAMS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_role { OPT_SERVER = 1, OPT_CLIENT = 2 };

#define OPT_MAX_HOSTKEYS 8
#define OPT_MAX_IDENTITIES 16

typedef struct options {
	/* both roles */
	char *ciphers, *macs, *kex_algorithms, *hostkey_algorithms;
	uint64_t rekey_bytes;	/* 0: default */
	uint64_t rekey_seconds; /* 0: default */
	int log_level;		/* enum sshrpc_log_level */
	uint64_t max_message_size;
	/* server */
	char *authorized_keys_file;
	char *pubkey_accepted_algorithms;
	char *subsystem;
	char *listen; /* ADDR:PORT */
	char *host_keys[OPT_MAX_HOSTKEYS];
	int n_host_keys;
	int max_auth_tries;
	uint64_t login_grace_ms;
	int max_sessions;
	int max_startups;
	uint64_t client_alive_ms;
	int client_alive_count_max;
	/* client */
	char *user_known_hosts_file;
	int strict_host_key_checking; /* 0 no, 1 yes, 2 accept-new */
	uint64_t connect_timeout_ms;
	bool batch_mode;
	bool identities_only;
	uint64_t server_alive_ms;
	char *identities[OPT_MAX_IDENTITIES];
	int n_identities;
	char *user;
	int port;
} options;

void options_init(options *o, enum opt_role role);
void options_free(options *o);
/* "Name=Value" or "Name Value". On error writes a line naming the option
 * and the reason into err and returns -1. where names the source
 * ("-o", "FILE:LINE"). */
int options_set(options *o, enum opt_role role, const char *arg, const char *where, char *err, size_t errlen);
/* Reads an sshd_config-style file: "Name Value" lines, # comments. */
int options_read_file(options *o, enum opt_role role, const char *path, char *err, size_t errlen);

/* Value parsers shared with the command lines. */
int parse_time_ms(const char *s, uint64_t *ms); /* "120", "90s", "2m", "1h30m" */
int parse_size(const char *s, uint64_t *bytes); /* "1G", "500M", "64K", "1000" */

#endif
