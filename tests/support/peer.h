/* Test fixture: real peers for interop tests (see ../shared/notes/peers.md).
 * Starts OpenSSH's sshd on a free loopback port with its own config, host
 * keys and PidFile in a temporary folder, and stops it; runs programs (ssh)
 * with their output captured; small loopback socket helpers. Test code only:
 * the library itself never does any of this. */
#ifndef SSHRPC_TEST_SUPPORT_PEER_H
#define SSHRPC_TEST_SUPPORT_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- processes ------------------------------------------------------------------ */

typedef struct sshrpc_test_proc {
	pid_t pid;
	int status; /* wait status once done */
	bool done;
	char out_path[512]; /* stdout and stderr go here */
} sshrpc_test_proc;

/* Starts argv[0] (an absolute path) with stdin from /dev/null and stdout
 * and stderr into a file in dir (NULL: /tmp). 0 or -1. */
int sshrpc_test_spawn(sshrpc_test_proc *p, const char *const *argv, const char *dir);
/* true once the process exited (non-blocking). */
bool sshrpc_test_proc_poll(sshrpc_test_proc *p);
/* Waits up to timeout_ms, then kills it. Returns the exit status (0-255),
 * or -1 when it was killed or died of a signal. */
int sshrpc_test_proc_wait(sshrpc_test_proc *p, int timeout_ms);
/* Its output so far, NUL-terminated, malloc'd (free it). */
char *sshrpc_test_proc_output(const sshrpc_test_proc *p, size_t *len);
/* Kills it if still running and removes the output file. */
void sshrpc_test_proc_cleanup(sshrpc_test_proc *p);
/* spawn + wait + output in one call; returns the exit status as above. */
int sshrpc_test_run(const char *const *argv, int timeout_ms, char **out);

/* ---- OpenSSH's ssh client ----------------------------------------------------- */

/* The options that isolate ssh from the user's files (peers.md), for
 * "ssh -F /dev/null ...": a NULL-terminated list. */
extern const char *const sshrpc_test_ssh_base_opts[];
/* Builds argv for /usr/bin/ssh: base options, "-p PORT", extra (may be
 * NULL), "127.0.0.1", then cmd (may be NULL). argv has room for cap
 * entries; portbuf keeps the port text alive. */
int sshrpc_test_ssh_argv(const char **argv, size_t cap, char *portbuf, size_t portcap, int port,
	const char *const *extra, const char *const *cmd);

/* ---- OpenSSH's sshd ------------------------------------------------------------ */

typedef struct sshrpc_test_sshd {
	sshrpc_test_proc proc;
	int port;
	char dir[256]; /* the temporary folder: config, keys, log, pid */
	char config[320];
} sshrpc_test_sshd;

/* Host key types for ssh-keygen: "ed25519", "rsa" (2048 bits), "ecdsa256",
 * "ecdsa384", "ecdsa521". NULL host_keys: all of them. extra: more
 * sshd_config lines (NULL-terminated, may be NULL), e.g.
 * "Ciphers +aes128-cbc". Waits until sshd accepts connections. 0 or -1
 * (with a reason on stderr). */
int sshrpc_test_sshd_start(sshrpc_test_sshd *d, const char *const *host_keys, const char *const *extra);
/* Stops sshd (SIGTERM, then SIGKILL) and removes the folder. */
void sshrpc_test_sshd_stop(sshrpc_test_sshd *d);
/* sshd's log so far (LogLevel DEBUG3 to its stderr), malloc'd. */
char *sshrpc_test_sshd_log(const sshrpc_test_sshd *d, size_t *len);

/* ---- loopback sockets ---------------------------------------------------------- */

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
int sshrpc_test_listen(int *port);
/* accept() with a timeout; -1 on timeout. */
int sshrpc_test_accept(int lfd, int timeout_ms);
int sshrpc_test_connect(int port);
/* A port that was free a moment ago. */
int sshrpc_test_free_port(void);
/* Removes a folder tree made by the fixture. */
void sshrpc_test_rmtree(const char *dir);

#endif
