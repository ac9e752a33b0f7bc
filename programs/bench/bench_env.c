#define _GNU_SOURCE
/* The benchmark's world: a throwaway folder with fresh keys, the servers it
 * starts on free loopback ports (sshrpcd, OpenSSH's sshd with our stdio
 * subsystem, an ssh ControlMaster, Dropbear), the clients it spawns, the
 * /proc figures it reads, and the cleanup that stops all of them even when
 * the run fails or is interrupted (peers.md has the quirks followed here). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_rpc.h"

extern char **environ;

/* The processes to stop if the run is interrupted. A signal handler has
 * to find them, so this one table is file-level state; nothing else is. */
#define MAX_PIDS 64
static struct {
	volatile sig_atomic_t stop;
	volatile sig_atomic_t alarms;
	pid_t pids[MAX_PIDS];
} reg;

static void reg_add(pid_t pid)
{
	for (int i = 0; i < MAX_PIDS; i++)
		if (reg.pids[i] == 0) {
			reg.pids[i] = pid;
			return;
		}
}

static void reg_del(pid_t pid)
{
	for (int i = 0; i < MAX_PIDS; i++)
		if (reg.pids[i] == pid)
			reg.pids[i] = 0;
}

static void on_signal(int sig)
{
	/* Stopping every process we started makes each blocking wait of the
	 * run fail at once; the run then cleans up on its normal path. */
	if (sig == SIGALRM && reg.alarms++ > 0)
		sig = SIGKILL; /* the first kill did not end the phase */
	for (int i = 0; i < MAX_PIDS; i++)
		if (reg.pids[i] > 0)
			kill(reg.pids[i], sig == SIGKILL ? SIGKILL : SIGTERM);
	if (reg.stop && sig != SIGALRM)
		_exit(130); /* second interrupt */
	reg.stop = 1;
	if (sig == SIGALRM)
		alarm(10);
	else if (sig == SIGKILL)
		_exit(3);
}

bool bench_stopped(void)
{
	return reg.stop != 0;
}

void bench_watchdog(unsigned seconds)
{
	reg.alarms = 0;
	alarm(seconds);
}

bool bench_have(const char *path)
{
	return access(path, X_OK) == 0;
}

/* ---- processes --------------------------------------------------------------- */

static pid_t spawn(char *const argv[], int in_fd, int out_fd, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	/* The bench ignores SIGPIPE and blocks nothing; children get defaults. */
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGALRM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return -1;
	reg_add(pid);
	return pid;
}

pid_t bench_spawn(char *const argv[], int in_fd, int *out_fd, const char *err_path)
{
	int p[2] = { -1, -1 };
	if (out_fd != NULL && pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = spawn(argv, in_fd, p[1], err_path);
	if (p[1] >= 0)
		close(p[1]);
	if (out_fd != NULL) {
		if (pid < 0)
			close(p[0]);
		else
			*out_fd = p[0];
	}
	return pid;
}

pid_t bench_spawn_piped(char *const argv[], int *in_fd, int *out_fd, const char *err_path)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = bench_spawn(argv, p[0], out_fd, err_path);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -1;
	}
	*in_fd = p[1];
	return pid;
}

int bench_wait(pid_t pid)
{
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	reg_del(pid);
	if (r != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

int bench_run(char *const argv[], char *out, size_t cap)
{
	int fd;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	/* stdout and stderr into one pipe */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	fd = p[0];
	size_t n = 0;
	if (rc == 0) {
		reg_add(pid);
		for (;;) {
			char tmp[512];
			ssize_t r = read(fd, tmp, sizeof tmp);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			for (ssize_t i = 0; i < r && n + 1 < cap; i++)
				out[n++] = tmp[i];
		}
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	close(fd);
	if (rc != 0) {
		snprintf(out, cap, "%s: %s", argv[0], strerror(rc));
		return -1;
	}
	return bench_wait(pid);
}

/* A server: its own process, which dies with us (PR_SET_PDEATHSIG) even if
 * we are killed with no chance to clean up. */
static pid_t spawn_server(char *const argv[], const char *log_path, const char *cwd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		int in = open("/dev/null", O_RDONLY);
		int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (in < 0 || log < 0)
			_exit(127);
		dup2(in, 0);
		dup2(log, 1);
		dup2(log, 2);
		if (cwd != NULL && chdir(cwd) != 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	reg_add(pid);
	return pid;
}

void bench_stop_pid(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			reg_del(pid);
			return;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (kill(pid, 0) != 0 && errno == ESRCH)
			break; /* not our child (the daemonised ControlMaster) and gone */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
	reg_del(pid);
}

void bench_log_tail(const char *path, char *out, size_t cap)
{
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char line[512];
	while (fgets(line, sizeof line, f) != NULL) {
		size_t l = strlen(line);
		while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (l > 0)
			snprintf(out, cap, "%s", line);
	}
	fclose(f);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Waits until something accepts on the port (and the server is alive). */
static int wait_port(pid_t pid, int port, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			reg_del(pid);
			return -1;
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_port = htons((uint16_t)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* ---- /proc ----------------------------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

int64_t bench_proc_cpu_ns(pid_t pid)
{
	char p[64], buf[256];
	snprintf(p, sizeof p, "/proc/%d/schedstat", (int)pid);
	if (read_file(p, buf, sizeof buf) < 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Fields after "(comm)" of /proc/PID/stat: state is field 3. */
static int stat_fields(pid_t pid, char **fields, int max, char *buf, size_t cap)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	if (read_file(p, buf, cap) < 0)
		return -1;
	char *r = strrchr(buf, ')');
	if (r == NULL)
		return -1;
	int n = 0;
	for (char *save = NULL, *t = strtok_r(r + 1, " ", &save); t != NULL && n < max; t = strtok_r(NULL, " ", &save))
		fields[n++] = t; /* fields[0] is field 3 (state) */
	return n;
}

int64_t bench_proc_ticks(pid_t pid, bool children)
{
	char buf[1024], *f[20];
	if (stat_fields(pid, f, 20, buf, sizeof buf) < 15)
		return -1;
	/* utime 14, stime 15, cutime 16, cstime 17 */
	int64_t t = strtoll(f[11], NULL, 10) + strtoll(f[12], NULL, 10);
	if (children)
		t += strtoll(f[13], NULL, 10) + strtoll(f[14], NULL, 10);
	return t;
}

int64_t bench_proc_stime(pid_t pid)
{
	char buf[1024], *f[20];
	if (stat_fields(pid, f, 20, buf, sizeof buf) < 15)
		return -1;
	return strtoll(f[12], NULL, 10);
}

static int64_t status_kib(pid_t pid, const char *file, const char *key)
{
	char p[64], buf[4096];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, file);
	if (read_file(p, buf, sizeof buf) < 0)
		return -1;
	char *k = strstr(buf, key);
	if (k == NULL)
		return -1;
	return strtoll(k + strlen(key), NULL, 10);
}

int64_t bench_proc_rss_kib(pid_t pid)
{
	return status_kib(pid, "status", "VmRSS:");
}

int64_t bench_proc_pss_kib(pid_t pid)
{
	return status_kib(pid, "smaps_rollup", "Pss:");
}

int bench_proc_comm(pid_t pid, char *out, size_t cap)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/comm", (int)pid);
	if (read_file(p, out, cap) < 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

int bench_descendants(pid_t root, pid_t *out, int max)
{
	enum { CAP = 8192 };
	pid_t *pid = malloc(CAP * sizeof *pid), *ppid = malloc(CAP * sizeof *ppid);
	int n = 0, m = 0;
	DIR *d = opendir("/proc");
	if (d == NULL || pid == NULL || ppid == NULL) {
		if (d != NULL)
			closedir(d);
		free(pid);
		free(ppid);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < CAP) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char buf[1024], *f[4];
		pid_t p = (pid_t)atoi(e->d_name);
		if (stat_fields(p, f, 4, buf, sizeof buf) < 2)
			continue;
		pid[n] = p;
		ppid[n] = (pid_t)atoi(f[1]);
		n++;
	}
	closedir(d);
	/* breadth first from root */
	pid_t *q = out;
	int head = 0;
	pid_t cur = root;
	for (;;) {
		for (int i = 0; i < n && m < max; i++)
			if (ppid[i] == cur)
				q[m++] = pid[i];
		if (head >= m)
			break;
		cur = q[head++];
	}
	free(pid);
	free(ppid);
	return m;
}

int64_t bench_tree_cpu_ns(pid_t root, const pid_t *old, int n_old, const char *comm)
{
	enum { MAXD = 4096 };
	pid_t *now = malloc(MAXD * sizeof *now);
	if (now == NULL)
		return -1;
	int n = bench_descendants(root, now, MAXD);
	double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		bool seen = false;
		for (int j = 0; j < n_old && !seen; j++)
			seen = old[j] == now[i];
		char c[64] = "";
		if (seen || (comm != NULL && (bench_proc_comm(now[i], c, sizeof c) != 0 || strcmp(c, comm) != 0)))
			continue;
		int64_t ns = bench_proc_cpu_ns(now[i]);
		int64_t all = bench_proc_ticks(now[i], true), own = bench_proc_ticks(now[i], false);
		if (ns > 0)
			sum += ns;
		if (all >= own && own >= 0)
			sum += (int64_t)((double)(all - own) * tick_ns);
	}
	free(now);
	return sum;
}

void bench_pin(pid_t pid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		for (long i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET((int)i, &set);
	}
	sched_setaffinity(pid, sizeof set, &set);
}

/* ---- keys and files --------------------------------------------------------------- */

static int write_text(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static int append_text(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* A fresh ed25519 key in OpenSSH's format, its .pub beside it. */
static int make_key(const char *path, const char *comment, sshrpc_buf *pub, sshrpc_key **keep, char *err, size_t errlen)
{
	sshrpc_key *k = NULL;
	sshrpc_err e = { 0 };
	if (sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &k) != SSHRPC_OK) {
		snprintf(err, errlen, "cannot generate an ed25519 key");
		return -1;
	}
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_buf_set_secret(&b);
	int rc = sshrpc_privkey_write_openssh(k, comment, &b);
	if (rc == SSHRPC_OK)
		rc = sshrpc_keyfile_write_new(path, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), 0600, &e);
	sshrpc_buf_free(&b);
	if (rc == SSHRPC_OK)
		rc = sshrpc_pubkey_format(k, comment, pub);
	if (rc != SSHRPC_OK) {
		snprintf(err, errlen, "%s: %s", path, e.msg[0] ? e.msg : sshrpc_strerror(rc));
		sshrpc_key_free(k);
		return -1;
	}
	char pp[PATH_MAX + 8];
	snprintf(pp, sizeof pp, "%s.pub", path);
	if (write_text(pp, (const char *)sshrpc_buf_ptr(pub), sshrpc_buf_len(pub), 0644) != 0) {
		snprintf(err, errlen, "%s: %s", pp, strerror(errno));
		sshrpc_key_free(k);
		return -1;
	}
	if (keep != NULL)
		*keep = k;
	else
		sshrpc_key_free(k);
	return 0;
}

static int known_hosts_add(bench_ctx *b, int port)
{
	sshrpc_buf l;
	sshrpc_buf_init(&l, NULL, 0);
	int rc = sshrpc_known_hosts_line("127.0.0.1", (unsigned)port, b->host_key_obj, false, &l);
	if (rc == SSHRPC_OK)
		rc = append_text(b->known_hosts, (const char *)sshrpc_buf_ptr(&l), sshrpc_buf_len(&l));
	sshrpc_buf_free(&l);
	return rc == 0 ? 0 : -1;
}

int bench_env_setup(bench_ctx *b, char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Neither our client nor ssh may use the caller's agent. */
	unsetenv("SSH_AUTH_SOCK");

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(b->bindir, sizeof b->bindir, "%s", exe);
	if ((size_t)snprintf(b->sshrpcd, sizeof b->sshrpcd, "%s/sshrpcd", b->bindir) >= sizeof b->sshrpcd) {
		snprintf(err, errlen, "%.200s: path too long", exe);
		return -1;
	}

	struct passwd *pw = getpwuid(getuid());
	snprintf(b->user, sizeof b->user, "%s", pw != NULL ? pw->pw_name : "root");
	b->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	FILE *ci = fopen("/proc/cpuinfo", "r");
	if (ci != NULL) {
		char line[256];
		while (fgets(line, sizeof line, ci) != NULL)
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c != NULL) {
					c++;
					while (*c == ' ')
						c++;
					c[strcspn(c, "\n")] = '\0';
					snprintf(b->cpu_model, sizeof b->cpu_model, "%s", c);
				}
				break;
			}
		fclose(ci);
	}

	snprintf(b->dir, sizeof b->dir, "/tmp/sshrpc-bench.XXXXXX");
	if (mkdtemp(b->dir) == NULL) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		b->dir[0] = '\0';
		return -1;
	}
	snprintf(b->home, sizeof b->home, "%s/home", b->dir);
	if (mkdir(b->home, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", b->home, strerror(errno));
		return -1;
	}
	snprintf(b->known_hosts, sizeof b->known_hosts, "%s/known_hosts", b->dir);
	snprintf(b->authorized_keys, sizeof b->authorized_keys, "%s/authorized_keys", b->dir);
	snprintf(b->host_key, sizeof b->host_key, "%s/host_ed25519", b->dir);
	if (b->client_key[0] == '\0') {
		snprintf(b->client_key, sizeof b->client_key, "%s/id_ed25519", b->dir);
		sshrpc_buf pub;
		sshrpc_buf_init(&pub, NULL, 0);
		int rc = make_key(b->client_key, "sshrpc-bench client", &pub, NULL, err, errlen);
		if (rc == 0 && write_text(b->authorized_keys, (const char *)sshrpc_buf_ptr(&pub), sshrpc_buf_len(&pub),
				       0600) != 0) {
			snprintf(err, errlen, "%s: %s", b->authorized_keys, strerror(errno));
			rc = -1;
		}
		sshrpc_buf_free(&pub);
		if (rc != 0)
			return -1;
	}
	if (b->target == NULL || b->compare) {
		sshrpc_buf pub;
		sshrpc_buf_init(&pub, NULL, 0);
		int rc = make_key(b->host_key, "sshrpc-bench host", &pub, &b->host_key_obj, err, errlen);
		sshrpc_buf_free(&pub);
		if (rc != 0)
			return -1;
	}
	/* Ours is always a file of this run: the servers it starts add their
	 * host key to it. With --target --known-hosts FILE, FILE's lines are
	 * copied in first; FILE itself is never written. */
	if (write_text(b->known_hosts, "", 0, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", b->known_hosts, strerror(errno));
		return -1;
	}
	if (b->target != NULL && b->known_hosts_arg[0] != '\0') {
		uint8_t *data = NULL;
		size_t len = 0;
		sshrpc_err e = { 0 };
		if (sshrpc_keyfile_read(NULL, b->known_hosts_arg, false, &data, &len, &e) == SSHRPC_OK) {
			int rc = append_text(b->known_hosts, (const char *)data, len);
			sshrpc_keyfile_free(NULL, data, len);
			if (rc != 0) {
				snprintf(err, errlen, "%s: %s", b->known_hosts, strerror(errno));
				return -1;
			}
		} else if (access(b->known_hosts_arg, F_OK) == 0) {
			snprintf(err, errlen, "--known-hosts %s", e.msg);
			return -1;
		}
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void bench_env_cleanup(bench_ctx *b)
{
	alarm(0);
	if (b->master_pid > 0) {
		char *argv[] = { "ssh", "-S", b->ctl_path, "-O", "exit", "x", NULL };
		char out[256];
		bench_run(argv, out, sizeof out);
		bench_stop_pid(b->master_pid);
		b->master_pid = 0;
	}
	bench_stop_pid(b->db_pid);
	bench_stop_pid(b->sshd_pid);
	bench_stop_pid(b->srv_pid);
	b->db_pid = b->sshd_pid = b->srv_pid = 0;
	for (int i = 0; i < MAX_PIDS; i++)
		if (reg.pids[i] > 0)
			bench_stop_pid(reg.pids[i]);
	if (b->host_key_obj != NULL) {
		sshrpc_key_free(b->host_key_obj);
		b->host_key_obj = NULL;
	}
	if (b->dir[0] != '\0' && getenv("SSHRPC_BENCH_KEEP") == NULL)
		nftw(b->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs a server in a private mount namespace where an empty throwaway
 * folder is mounted over the user's home directory. Both sshd and Dropbear
 * run commands through the user's shell, and Debian's bash reads
 * ~/.bashrc when started by an SSH server (SSH_SOURCE_BASHRC): whatever
 * that file does (here: `pyenv init`, about 0.5 s) would be counted as the
 * SSH server's cost. Dropbear also reads ~/.ssh/authorized_keys from there.
 * Needs root; *wrapped says whether it could be done. */
static pid_t spawn_homed(bench_ctx *b, char *const cmd[], const char *log, bool *wrapped)
{
	struct passwd *pw = getpwuid(getuid());
	*wrapped = false;
	/* what the servers must still see must not lie under the home */
	size_t hl = pw != NULL ? strlen(pw->pw_dir) : 0;
	bool hidden = pw == NULL || hl <= 1 || (strncmp(b->sshrpcd, pw->pw_dir, hl) == 0 && b->sshrpcd[hl] == '/') ||
		      (strncmp(b->dir, pw->pw_dir, hl) == 0 && b->dir[hl] == '/');
	if (getuid() == 0 && !hidden && bench_have("/usr/bin/unshare") && b->home[0] != '\0') {
		char *argv[48];
		int n = 0;
		const char *pre[] = { "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
			"mount --bind \"$0\" \"$1\" && shift && exec \"$@\"", b->home, pw->pw_dir };
		for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
			argv[n++] = (char *)pre[i];
		for (int i = 0; cmd[i] != NULL && n < 47; i++)
			argv[n++] = cmd[i];
		argv[n] = NULL;
		*wrapped = true;
		return spawn_server(argv, log, b->dir);
	}
	return spawn_server(cmd, log, b->dir);
}

/* ---- the servers ---------------------------------------------------------------------- */

int bench_start_sshrpcd(bench_ctx *b, const char *tag, pid_t *pid, int *port, char *err, size_t errlen)
{
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/sshrpcd-%s.log", b->dir, tag);
	char ak[PATH_MAX + 32];
	snprintf(ak, sizeof ak, "AuthorizedKeysFile=%s", b->authorized_keys);
	char *argv[] = { b->sshrpcd, "-p", "127.0.0.1:0", "-h", b->host_key, "-o", ak, "-o", "LogLevel=ERROR", "-o",
		"MaxStartups=10000", NULL };
	*pid = spawn_server(argv, log, b->dir);
	if (*pid < 0) {
		snprintf(err, errlen, "cannot start %s: %s", b->sshrpcd, strerror(errno));
		return -1;
	}
	/* interface.md: with port 0 the first line on stderr is
	 * "listening on ADDR:PORT". */
	for (int i = 0; i < 500; i++) {
		char line[512];
		bench_log_tail(log, line, sizeof line);
		const char *l = strstr(line, "listening on ");
		const char *colon = l ? strrchr(l, ':') : NULL;
		if (colon != NULL) {
			*port = atoi(colon + 1);
			return known_hosts_add(b, *port);
		}
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			reg_del(*pid);
			*pid = 0;
			snprintf(err, errlen, "sshrpcd did not start: %s", line[0] ? line : "no message");
			return -1;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	snprintf(err, errlen, "sshrpcd printed no 'listening on' line in 5 s");
	bench_stop_pid(*pid);
	*pid = 0;
	return -1;
}

int bench_start_sshd(bench_ctx *b)
{
	if (!bench_have("/usr/sbin/sshd")) {
		snprintf(b->sshd_error, sizeof b->sshd_error, "/usr/sbin/sshd is not installed");
		return -1;
	}
	/* peers.md: sshd needs its privilege-separation folder, and others
	 * may have removed it. */
	if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) {
		snprintf(b->sshd_error, sizeof b->sshd_error, "/run/sshd: %s", strerror(errno));
		return -1;
	}
	b->sshd_port = free_port();
	char cfg[PATH_MAX], text[4 * PATH_MAX];
	snprintf(cfg, sizeof cfg, "%s/sshd_config", b->dir);
	int n = snprintf(text, sizeof text,
		"Port %d\n"
		"ListenAddress 127.0.0.1\n"
		"HostKey %s\n"
		"AuthorizedKeysFile %s\n"
		"PidFile %s/sshd.pid\n"
		"UsePAM no\n"
		"StrictModes no\n"
		"PasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\n"
		"PermitRootLogin prohibit-password\n"
		"LogLevel ERROR\n"
		"MaxSessions 300\n"
		"MaxStartups 1000\n"
		"PrintMotd no\n"
		"PrintLastLog no\n"
		"UseDNS no\n"
		"X11Forwarding no\n"
		"Subsystem sshrpc %s --stdio\n",
		b->sshd_port, b->host_key, b->authorized_keys, b->dir, b->sshrpcd);
	if (write_text(cfg, text, (size_t)n, 0600) != 0) {
		snprintf(b->sshd_error, sizeof b->sshd_error, "%.150s: %s", cfg, strerror(errno));
		return -1;
	}
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/sshd.log", b->dir);
	char *argv[] = { "/usr/sbin/sshd", "-D", "-e", "-f", cfg, NULL };
	b->sshd_pid = spawn_homed(b, argv, log, &b->sshd_homed);
	if (b->sshd_pid < 0 || wait_port(b->sshd_pid, b->sshd_port, 5000) != 0) {
		char line[200];
		bench_log_tail(log, line, sizeof line);
		snprintf(b->sshd_error, sizeof b->sshd_error, "sshd did not start: %s", line[0] ? line : "no message");
		bench_stop_pid(b->sshd_pid);
		b->sshd_pid = 0;
		return -1;
	}
	return known_hosts_add(b, b->sshd_port);
}

int bench_start_master(bench_ctx *b)
{
	if (b->sshd_pid <= 0) {
		snprintf(b->master_error, sizeof b->master_error, "no sshd");
		return -1;
	}
	snprintf(b->ctl_path, sizeof b->ctl_path, "%s/ctl", b->dir);
	char port[16], kh[PATH_MAX + 32], cp[PATH_MAX + 32];
	snprintf(port, sizeof port, "%d", b->sshd_port);
	snprintf(kh, sizeof kh, "UserKnownHostsFile=%s", b->known_hosts);
	snprintf(cp, sizeof cp, "ControlPath=%s", b->ctl_path);
	char *argv[] = { "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", kh,
		"-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-i", b->client_key, "-p", port, "-l", b->user,
		"-o", "ControlMaster=yes", "-o", cp, "-N", "-f", "127.0.0.1", NULL };
	char out[1024];
	int st = bench_run(argv, out, sizeof out);
	if (st != 0) {
		snprintf(b->master_error, sizeof b->master_error, "ssh -o ControlMaster=yes -N -f failed (%d): %.150s",
			st, out);
		return -1;
	}
	/* -f put the master in the background: ask it for its pid so that it
	 * can be stopped whatever happens. */
	char *chk[] = { "ssh", "-S", b->ctl_path, "-O", "check", "x", NULL };
	bench_run(chk, out, sizeof out);
	const char *p = strstr(out, "pid=");
	if (p == NULL) {
		snprintf(b->master_error, sizeof b->master_error, "ssh -O check: %.150s", out);
		return -1;
	}
	b->master_pid = (pid_t)atoi(p + 4);
	reg_add(b->master_pid);
	return 0;
}

int bench_start_dropbear(bench_ctx *b)
{
	if (!bench_have("/usr/sbin/dropbear") || access("/usr/bin/dbclient", X_OK) != 0 ||
		access("/usr/bin/dropbearconvert", X_OK) != 0) {
		snprintf(b->db_error, sizeof b->db_error, "dropbear, dbclient or dropbearconvert is not installed");
		return -1;
	}
	/* Dropbear reads the user's own ~/.ssh/authorized_keys and has no
	 * option to read another file: it runs with the throwaway home
	 * mounted over the user's (spawn_homed), which needs root. */
	if (getuid() != 0) {
		snprintf(b->db_error, sizeof b->db_error,
			"not root: Dropbear would need the user's own ~/.ssh/authorized_keys, which the bench does not "
			"touch");
		return -1;
	}
	char sshdir[PATH_MAX + 8], ak[PATH_MAX + 32], hk[PATH_MAX], pidf[PATH_MAX], log[PATH_MAX];
	snprintf(sshdir, sizeof sshdir, "%s/.ssh", b->home);
	snprintf(ak, sizeof ak, "%s/authorized_keys", sshdir);
	snprintf(hk, sizeof hk, "%s/host.dropbear", b->dir);
	snprintf(pidf, sizeof pidf, "%s/dropbear.pid", b->dir);
	snprintf(log, sizeof log, "%s/dropbear.log", b->dir);
	snprintf(b->client_key_db, sizeof b->client_key_db, "%s/id.dropbear", b->dir);
	char pub[PATH_MAX + 8];
	snprintf(pub, sizeof pub, "%s.pub", b->client_key);
	char out[1024];
	char *c1[] = { "dropbearconvert", "openssh", "dropbear", b->host_key, hk, NULL };
	char *c2[] = { "dropbearconvert", "openssh", "dropbear", b->client_key, b->client_key_db, NULL };
	char *cp[] = { "cp", pub, ak, NULL };
	if ((mkdir(sshdir, 0700) != 0 && errno != EEXIST) || bench_run(cp, out, sizeof out) != 0 ||
		bench_run(c1, out, sizeof out) != 0 || bench_run(c2, out, sizeof out) != 0) {
		snprintf(b->db_error, sizeof b->db_error, "preparing Dropbear's keys failed: %.150s", out);
		return -1;
	}
	chmod(ak, 0600);
	b->db_port = free_port();
	char listen[32];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", b->db_port);
	char *argv[] = { "/usr/sbin/dropbear", "-F", "-E", "-s", "-p", listen, "-r", hk, "-P", pidf, NULL };
	bool wrapped;
	b->db_pid = spawn_homed(b, argv, log, &wrapped);
	if (b->db_pid < 0 || wait_port(b->db_pid, b->db_port, 5000) != 0) {
		char line[200];
		bench_log_tail(log, line, sizeof line);
		snprintf(b->db_error, sizeof b->db_error, "dropbear did not start: %s", line[0] ? line : "no message");
		bench_stop_pid(b->db_pid);
		b->db_pid = 0;
		return -1;
	}
	return 0;
}
