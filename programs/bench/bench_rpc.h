/* sshrpc-bench (no subcommand): what an RPC call costs over SSH, per mode,
 * with our client and server next to OpenSSH, Dropbear and a plain TCP
 * round trip, all measured in one run (issue 7, "Performance"). Shared
 * declarations of the bench_*.c files of that subcommand. */
#ifndef SSHRPC_BENCH_RPC_H
#define SSHRPC_BENCH_RPC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"
#include "options.h"
#include "rpcwire.h"
#include "sshc.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ---- samples and statistics (bench_stats.c) ------------------------------- */

/* One timed run of one mode on one side: every call's latency and the time
 * it completed, so that sets of 10 can be formed afterwards. */
typedef struct bench_series {
	double *lat_us;	   /* per call: request sent to reply read */
	uint64_t *done_ns; /* per call: when its reply was read */
	size_t n, cap;
	uint64_t start_ns; /* when the first call started */
	int64_t cpu_ns;	   /* CPU time of every process on the path during the run; -1 unknown */
} bench_series;

int bench_series_init(bench_series *s, size_t cap);
void bench_series_free(bench_series *s);
/* Records one call; -1 when the series is full. */
int bench_series_add(bench_series *s, uint64_t sent_ns, uint64_t done_ns);

typedef struct bench_stats {
	bool valid;
	size_t calls; /* over all repeats */
	size_t repeats;
	double mean_ms, sd_ms; /* per-call value of each set of 10 (the paper's method), over
				  the sets of every repeat; sd NAN with fewer than 2 sets */
	size_t nsets;
	double set_sum, set_sq;	  /* of the per-call set values, to pool repeats */
	double median_ms, p99_ms; /* individual calls */
	double calls_per_s;	  /* calls / wall time of the run */
	double cpu_us;		  /* CPU per call, all processes on the path; -1 unknown */
} bench_stats;

/* The figures of one run. */
void bench_stats_of(const bench_series *s, bench_stats *out);
/* Median, p99, calls/s and CPU as the median over the repeats' figures;
 * mean and sigma over the sets of 10 of all repeats together. */
void bench_stats_median(const bench_stats *reps, size_t n, bench_stats *out);
double bench_median(double *v, size_t n);		/* sorts v */
double bench_percentile(double *v, size_t n, double p); /* sorts v */

/* How long a run may go: whichever comes first, rounded to sets of 10. */
typedef struct bench_budget {
	size_t max_calls;
	double max_s;
} bench_budget;

uint64_t bench_now_ns(void);
uint64_t bench_thread_cpu_ns(void);
uint64_t bench_process_cpu_ns(void);

/* ---- results --------------------------------------------------------------- */

enum bench_side { SIDE_SSHRPC, SIDE_OPENSSH, SIDE_DROPBEAR, SIDE_TCP };

typedef struct bench_result {
	char id[48];	/* "sshrpc.subsystem", "openssh.exec", ... */
	char mode[24];	/* the table row: exec, exec-mod, shell, subsystem, pipe1, pipe16, pipe64, tcp */
	int side;	/* enum bench_side */
	char what[240]; /* exactly what one call is */
	int depth;	/* calls outstanding */
	bool pinned;	/* every process of the run on one CPU */
	bench_stats st;
	char error[240]; /* why it was not measured */
} bench_result;

/* What one bulk run cost in CPU, per MiB carried (ms): load elsewhere on
 * the machine stretches wall time, not these. Negative: not known. */
typedef struct bench_cpu {
	double client_ms, server_ms;
} bench_cpu;

typedef struct bench_tput {
	char cipher[64], mac[64];
	uint64_t bytes;
	double ours_mbs, openssh_mbs;	 /* 10^6 bytes per second; median over repeats */
	bench_cpu ours_cpu, openssh_cpu; /* median over repeats */
	char error[240];
} bench_tput;

typedef struct bench_conns {
	int n;
	double cpu_ms;	     /* server CPU per connection, from schedstat (ns) */
	double cpu_ms_ticks; /* the same from utime+stime (10 ms ticks) */
	double sys_ms_ticks; /* the stime part: the kernel's TCP and epoll work */
	double rss_kib;	     /* VmRSS growth per idle connection */
	int n_openssh;
	double o_cpu_ms;      /* sshd processes per connection: utime+stime(+children) */
	double o_rss_kib;     /* sum of VmRSS of a connection's sshd processes */
	double o_pss_kib;     /* the same as PSS (shared pages divided) */
	double o_sub_rss_kib; /* the sshrpcd --stdio process each session runs */
	char error[240], o_error[240];
} bench_conns;

#define BENCH_MAX_RESULTS 48
#define BENCH_MAX_TPUT 4

/* ---- the run ------------------------------------------------------------------ */

typedef struct bench_ctx {
	/* settings */
	bool quick;
	bool compare; /* OpenSSH and Dropbear next to ours */
	bool pin;     /* pin pure round trips to one CPU */
	int cpu;
	int repeats;
	int connections;       /* --connections N (0: skip) */
	size_t payload;	       /* bytes echoed per call */
	uint64_t bulk_bytes;   /* per cipher and side */
	const char *json_path; /* "-" for stdout */
	const char *plot_path;
	const char *target;		/* --target HOST:PORT */
	const char *only;		/* --only LIST: modes, "bulk", "connections" */
	char known_hosts_arg[PATH_MAX]; /* --known-hosts: copied into ours */
	char command[1024];		/* how the run was started, for the record */

	/* environment */
	char dir[256];	/* throwaway folder */
	char home[300]; /* empty home the SSH servers run commands in (bench_env.c) */
	char bindir[PATH_MAX];
	char sshrpcd[PATH_MAX];
	char host_key[PATH_MAX], client_key[PATH_MAX], client_key_db[PATH_MAX];
	char known_hosts[PATH_MAX], authorized_keys[PATH_MAX];
	sshrpc_key *host_key_obj;
	char user[128];
	char host[256];
	int port; /* our server */
	pid_t srv_pid;
	int sshd_port;
	pid_t sshd_pid;
	bool sshd_homed; /* sshd runs with the empty home, not the user's rc files */
	char sshd_error[240];
	char ctl_path[PATH_MAX];
	pid_t master_pid;
	char master_error[240];
	int db_port;
	pid_t db_pid;
	char db_error[240];
	char cpu_model[128];
	char ssh_version[128], db_version[64];
	double load_start, load_end; /* 1-minute load average: how shared the machine was */
	int ncpu;
	char negotiated[256]; /* our client's algorithms on the latency runs */

	/* the client */
	options o;
	logger lg;

	/* the call */
	rpc_request echo; /* sys:echo(<<payload>>) */
	uint8_t *reply;	  /* ETF of the expected {ok,<<payload>>} */
	size_t reply_len;
	uint8_t *call_frame; /* {call,Id,{sys,echo,[...]}} with a patchable Id */
	size_t call_frame_len, call_id_off;
	char exec_cmd[1024]; /* the same call for `ssh host CMD` */

	/* results */
	bench_result res[BENCH_MAX_RESULTS];
	int n_res;
	bench_tput tput[BENCH_MAX_TPUT];
	int n_tput;
	bench_conns conns;
	double elapsed_s;
} bench_ctx;

bench_result *bench_result_add(bench_ctx *b, const char *id, const char *mode, int side, int depth);
bench_result *bench_result_find(bench_ctx *b, const char *id);
/* --only: is this mode (or "bulk", "connections") part of the run? */
bool bench_wanted(const bench_ctx *b, const char *mode);

/* ---- environment (bench_env.c) -------------------------------------------------- */

int bench_env_setup(bench_ctx *b, char *err, size_t errlen);
void bench_env_cleanup(bench_ctx *b);
bool bench_stopped(void);
/* Arms a watchdog: if the phase is not over in seconds, the servers are
 * killed, so that every blocking wait fails and the run cleans up. 0 disarms. */
void bench_watchdog(unsigned seconds);
int bench_start_sshrpcd(bench_ctx *b, const char *tag, pid_t *pid, int *port, char *err, size_t errlen);
int bench_start_sshd(bench_ctx *b);
int bench_start_master(bench_ctx *b);
int bench_start_dropbear(bench_ctx *b);
void bench_stop_pid(pid_t pid);
/* Every process whose parent chain leads to root (root excluded). */
int bench_descendants(pid_t root, pid_t *out, int max);
/* /proc figures; negative when unreadable. */
int64_t bench_proc_cpu_ns(pid_t pid);		    /* schedstat: time on CPU */
int64_t bench_proc_ticks(pid_t pid, bool children); /* utime+stime (+cutime+cstime) */
int64_t bench_proc_stime(pid_t pid);		    /* stime alone (ticks) */
int64_t bench_proc_rss_kib(pid_t pid);
int64_t bench_proc_pss_kib(pid_t pid);
int bench_proc_comm(pid_t pid, char *out, size_t cap);
/* Pins a process (0: this thread) to cpu, or lets it run anywhere (cpu < 0). */
void bench_pin(pid_t pid, int cpu);
/* Runs argv with stdin from in_fd (-1: /dev/null), stdout to a pipe
 * (*out_fd) or /dev/null (out_fd NULL), stderr to err_path (NULL: /dev/null). */
pid_t bench_spawn(char *const argv[], int in_fd, int *out_fd, const char *err_path);
/* Like bench_spawn with a pipe on stdin too. */
pid_t bench_spawn_piped(char *const argv[], int *in_fd, int *out_fd, const char *err_path);
int bench_wait(pid_t pid); /* exit status, or 128+signal, -1 */
/* CPU time of the processes below root that are not in old[] and, unless
 * comm is NULL, are named comm (ns): schedstat for each, plus their reaped
 * children's utime+stime. */
int64_t bench_tree_cpu_ns(pid_t root, const pid_t *old, int n_old, const char *comm);
/* Runs argv to the end; its stdout+stderr in out (NUL-terminated). */
int bench_run(char *const argv[], char *out, size_t cap);
/* The last line of a log file, for error messages. */
void bench_log_tail(const char *path, char *out, size_t cap);
bool bench_have(const char *path);

/* ---- the client sides (bench_ours.c, bench_peer.c, bench_tcp.c) ------------------------- */

int bench_ours_connect(bench_ctx *b, const options *o, sshc *c, char *err, size_t errlen);
int bench_ours_exec(bench_ctx *b, bench_series *s, const bench_budget *bud, char *err, size_t errlen);
int bench_ours_exec_mod(bench_ctx *b, sshc *c, bench_series *s, const bench_budget *bud, char *err, size_t errlen);
/* kind SSHRPC_REQ_SHELL or SSHRPC_REQ_SUBSYSTEM; depth 0: {mfa,...} one at
 * a time; depth >= 1: {call,Id,...} with that many outstanding. */
int bench_ours_stream(
	bench_ctx *b, sshc *c, int kind, int depth, bench_series *s, const bench_budget *bud, char *err, size_t errlen);
int bench_ours_sink(bench_ctx *b, const char *cipher, const char *mac, uint64_t bytes, double *mbs, bench_cpu *cpu,
	char *err, size_t errlen);
/* Opens n idle sessions (subsystem) to host:port and keeps them; frees them
 * with bench_ours_idle_close. */
int bench_ours_idle_open(bench_ctx *b, int port, int n, sshc ***out, int *opened, char *err, size_t errlen);
void bench_ours_idle_close(sshc **cs, int n);

enum bench_peer_exec { PEER_SSH_CALL, PEER_SSH_TRUE, PEER_SSH_MUX, PEER_DROPBEAR_TRUE };
int bench_peer_exec(bench_ctx *b, int variant, bench_series *s, const bench_budget *bud, char *err, size_t errlen);
/* One `ssh -s HOST sshrpc` session; depth as for bench_ours_stream. */
int bench_peer_stream(bench_ctx *b, int depth, bench_series *s, const bench_budget *bud, char *err, size_t errlen);
int bench_peer_cat(bench_ctx *b, const char *cipher, const char *mac, uint64_t bytes, double *mbs, bench_cpu *cpu,
	char *err, size_t errlen);

int bench_tcp_rtt(bench_ctx *b, bench_series *s, const bench_budget *bud, char *err, size_t errlen);

/* ---- calls and replies (bench_call.c) ------------------------------------------------ */

int bench_call_setup(bench_ctx *b, char *err, size_t errlen);
void bench_call_free(bench_ctx *b);
/* Checks an {ok,<<payload>>} reply (ETF, version byte included); the first
 * one is decoded and becomes the reference for the others. */
int bench_call_check_mfa(bench_ctx *b, const uint8_t *etf, size_t len);
/* Checks a {reply,Id,R} message against the expected R; *id gets Id. */
int bench_call_check_reply(const bench_ctx *b, const uint8_t *etf, size_t len, uint64_t *id);
void bench_call_patch_id(uint8_t *frame, size_t off, uint32_t id);
/* The frame of {mfa,{sys,sink,[<<n bytes>>]}}. */
int bench_sink_frame(size_t n, uint8_t **frame, size_t *len);
/* Checks a sys:sink reply {ok,n}: the first is decoded and kept in *ref. */
int bench_sink_check(size_t n, const uint8_t *etf, size_t len, uint8_t **ref, size_t *ref_len);

/* ---- report (bench_report.c) ------------------------------------------------------------ */

/* The table; on stderr when the JSON goes to stdout. */
void bench_report_table(const bench_ctx *b, FILE *f);
int bench_report_json(const bench_ctx *b, const char *path);
int bench_report_plot(const bench_ctx *b, const char *path, char *err, size_t errlen);

int bench_rpc_run(bench_ctx *b);

#endif
