#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshrpc/common.h"

enum opt_kind {
	K_STR,
	K_INT,
	K_TIME,
	K_SIZE,
	K_YESNO,
	K_LOGLEVEL,
	K_STRICT,
	K_REKEY,
	K_HOSTKEY,
	K_IDENTITY,
	K_SUBSYSTEM,
	K_PORT
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	int roles;
	size_t off;
};

#define B (OPT_SERVER | OPT_CLIENT)
#define S OPT_SERVER
#define C OPT_CLIENT
#define F(field) offsetof(options, field)

static const struct opt_def defs[] = {
	{ "Ciphers", K_STR, B, F(ciphers) },
	{ "MACs", K_STR, B, F(macs) },
	{ "KexAlgorithms", K_STR, B, F(kex_algorithms) },
	{ "HostKeyAlgorithms", K_STR, B, F(hostkey_algorithms) },
	{ "RekeyLimit", K_REKEY, B, 0 },
	{ "LogLevel", K_LOGLEVEL, B, F(log_level) },
	{ "MaxMessageSize", K_SIZE, B, F(max_message_size) },
	{ "AuthorizedKeysFile", K_STR, S, F(authorized_keys_file) },
	{ "PubkeyAcceptedAlgorithms", K_STR, S, F(pubkey_accepted_algorithms) },
	{ "PubkeyAcceptedKeyTypes", K_STR, S, F(pubkey_accepted_algorithms) },
	{ "Subsystem", K_SUBSYSTEM, S, F(subsystem) },
	{ "ListenAddress", K_STR, S, F(listen) },
	{ "HostKey", K_HOSTKEY, S, 0 },
	{ "MaxAuthTries", K_INT, S, F(max_auth_tries) },
	{ "LoginGraceTime", K_TIME, S, F(login_grace_ms) },
	{ "MaxSessions", K_INT, S, F(max_sessions) },
	{ "MaxStartups", K_INT, S, F(max_startups) },
	{ "ClientAliveInterval", K_TIME, S, F(client_alive_ms) },
	{ "ClientAliveCountMax", K_INT, S, F(client_alive_count_max) },
	{ "UserKnownHostsFile", K_STR, C, F(user_known_hosts_file) },
	{ "StrictHostKeyChecking", K_STRICT, C, F(strict_host_key_checking) },
	{ "ConnectTimeout", K_TIME, C, F(connect_timeout_ms) },
	{ "BatchMode", K_YESNO, C, F(batch_mode) },
	{ "IdentitiesOnly", K_YESNO, C, F(identities_only) },
	{ "ServerAliveInterval", K_TIME, C, F(server_alive_ms) },
	{ "IdentityFile", K_IDENTITY, C, 0 },
	{ "User", K_STR, C, F(user) },
	{ "Port", K_PORT, B, F(port) },
};

void options_init(options *o, enum opt_role role)
{
	memset(o, 0, sizeof *o);
	o->log_level = SSHRPC_LOG_INFO;
	o->max_message_size = 16u << 20;
	o->max_auth_tries = 6;
	o->login_grace_ms = 120000;
	o->max_sessions = 64;
	o->max_startups = 100;
	o->client_alive_count_max = 3;
	o->strict_host_key_checking = 2; /* ask is not possible here: accept-new */
	o->connect_timeout_ms = 0;
	o->port = role == OPT_SERVER ? 2222 : 22;
}

static char **str_field(options *o, size_t off)
{
	return (char **)((char *)o + off);
}

void options_free(options *o)
{
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (defs[i].kind == K_STR || defs[i].kind == K_SUBSYSTEM) {
			char **p = str_field(o, defs[i].off);
			free(*p);
			*p = NULL;
		}
	for (int i = 0; i < o->n_host_keys; i++)
		free(o->host_keys[i]);
	for (int i = 0; i < o->n_identities; i++)
		free(o->identities[i]);
	o->n_host_keys = o->n_identities = 0;
}

int parse_time_ms(const char *s, uint64_t *ms)
{
	/* sshd_config(5) TIME FORMATS: a sequence of NUMBER[smhdw]. */
	uint64_t total = 0;
	if (*s == '\0')
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (errno != 0 || v > 100000000ull)
			return -1;
		uint64_t mult = 1000;
		switch (*end) {
		case '\0':
			break;
		case 's':
		case 'S':
			end++;
			break;
		case 'm':
		case 'M':
			mult = 60000;
			end++;
			break;
		case 'h':
		case 'H':
			mult = 3600000;
			end++;
			break;
		case 'd':
		case 'D':
			mult = 86400000;
			end++;
			break;
		case 'w':
		case 'W':
			mult = 604800000;
			end++;
			break;
		default:
			return -1;
		}
		total += v * mult;
		s = end;
	}
	*ms = total;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || v > (UINT64_MAX / mult))
		return -1;
	*bytes = v * mult;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_yesno(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_loglevel(const char *s, int *out)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "QUIET", SSHRPC_LOG_QUIET },
		{ "FATAL", SSHRPC_LOG_ERROR },
		{ "ERROR", SSHRPC_LOG_ERROR },
		{ "INFO", SSHRPC_LOG_INFO },
		{ "VERBOSE", SSHRPC_LOG_VERBOSE },
		{ "DEBUG", SSHRPC_LOG_DEBUG },
		{ "DEBUG1", SSHRPC_LOG_DEBUG },
		{ "DEBUG2", SSHRPC_LOG_DEBUG },
		{ "DEBUG3", SSHRPC_LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	return -1;
}

/* RekeyLimit: "default"/SIZE, then optionally "none"/TIME (ssh_config(5)). */
static int parse_rekey(options *o, const char *v)
{
	char a[64], b[64];
	int n = sscanf(v, "%63s %63s", a, b);
	if (n < 1)
		return -1;
	if (strcasecmp(a, "default") == 0)
		o->rekey_bytes = 0;
	else if (parse_size(a, &o->rekey_bytes) != 0 || o->rekey_bytes < 16)
		return -1;
	if (n == 2) {
		uint64_t ms;
		if (strcasecmp(b, "none") == 0 || strcasecmp(b, "default") == 0)
			o->rekey_seconds = 0;
		else if (parse_time_ms(b, &ms) != 0)
			return -1;
		else
			o->rekey_seconds = ms / 1000;
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int add_path(char **arr, int *n, int max, const char *v)
{
	if (*n >= max)
		return -1;
	arr[(*n)++] = strdup(v);
	return 0;
}

int options_set(options *o, enum opt_role role, const char *arg, const char *where, char *err, size_t errlen)
{
	char line[4096];
	if (strlen(arg) >= sizeof line) {
		snprintf(err, errlen, "%s: option line too long", where);
		return -1;
	}
	strcpy(line, arg);
	char *s = trim(line);
	size_t nl = strcspn(s, "= \t");
	if (nl == 0) {
		snprintf(err, errlen, "%s: missing option name in '%s'", where, arg);
		return -1;
	}
	char *v = s + nl;
	if (*v != '\0') {
		*v++ = '\0';
		v = trim(v);
		if (*v == '=')
			v = trim(v + 1);
	}
	if (*v == '\0') {
		snprintf(err, errlen, "%s: option %s needs a value", where, s);
		return -1;
	}
	const struct opt_def *d = NULL;
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (strcasecmp(defs[i].name, s) == 0) {
			d = &defs[i];
			break;
		}
	if (d == NULL || !(d->roles & (int)role)) {
		snprintf(err, errlen, "%s: unknown option %s", where, s);
		return -1;
	}
	void *field = (char *)o + d->off;
	int rc = 0;
	switch (d->kind) {
	case K_STR:
		free(*(char **)field);
		*(char **)field = strdup(v);
		break;
	case K_SUBSYSTEM: {
		/* sshd_config form is "Subsystem NAME [PATH]"; we keep the name. */
		char name[256];
		if (sscanf(v, "%255s", name) != 1) {
			rc = -1;
			break;
		}
		free(*(char **)field);
		*(char **)field = strdup(name);
		break;
	}
	case K_INT:
		rc = parse_int(v, field);
		break;
	case K_PORT:
		rc = parse_int(v, field);
		if (rc == 0 && (*(int *)field < 1 || *(int *)field > 65535))
			rc = -1;
		break;
	case K_TIME:
		rc = parse_time_ms(v, field);
		break;
	case K_SIZE:
		rc = parse_size(v, field);
		break;
	case K_YESNO:
		rc = parse_yesno(v, field);
		break;
	case K_LOGLEVEL:
		rc = parse_loglevel(v, field);
		break;
	case K_STRICT: {
		bool b;
		if (strcasecmp(v, "accept-new") == 0)
			*(int *)field = 2;
		else if (strcasecmp(v, "off") == 0)
			*(int *)field = 0;
		else if (parse_yesno(v, &b) == 0)
			*(int *)field = b ? 1 : 0;
		else
			rc = -1;
		break;
	}
	case K_REKEY:
		rc = parse_rekey(o, v);
		break;
	case K_HOSTKEY:
		rc = add_path(o->host_keys, &o->n_host_keys, OPT_MAX_HOSTKEYS, v);
		break;
	case K_IDENTITY:
		rc = add_path(o->identities, &o->n_identities, OPT_MAX_IDENTITIES, v);
		break;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: bad value '%s' for option %s", where, v, d->name);
		return -1;
	}
	return 0;
}

int options_read_file(options *o, enum opt_role role, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char where[512];
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		if (options_set(o, role, s, where, err, errlen) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}
