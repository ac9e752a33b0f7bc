/* See peer.h. POSIX only; used by tests, never by the library. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "peer.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- processes ------------------------------------------------------------------ */

int sshrpc_test_spawn(sshrpc_test_proc *p, const char *const *argv, const char *dir)
{
	memset(p, 0, sizeof p[0]);
	snprintf(p->out_path, sizeof p->out_path, "%s/proc-out-XXXXXX", dir != NULL ? dir : "/tmp");
	int ofd = mkstemp(p->out_path);
	if (ofd < 0)
		return -1;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(ofd);
		return -1;
	}
	if (pid == 0) {
#ifdef __linux__
		/* a test that dies (crash, timeout) takes its sshd and ssh with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
#else
		(void)parent;
#endif
		int in = open("/dev/null", O_RDONLY);
		if (in >= 0)
			dup2(in, 0);
		dup2(ofd, 1);
		dup2(ofd, 2);
		/* own process group, so that a kill reaches its children */
		setpgid(0, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(ofd);
	p->pid = pid;
	return 0;
}

bool sshrpc_test_proc_poll(sshrpc_test_proc *p)
{
	if (p->done || p->pid <= 0)
		return true;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid) {
		p->done = true;
		p->status = st;
	}
	return p->done;
}

static int exit_code(const sshrpc_test_proc *p)
{
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

int sshrpc_test_proc_wait(sshrpc_test_proc *p, int timeout_ms)
{
	for (int waited = 0; !sshrpc_test_proc_poll(p); waited += 5) {
		if (waited >= timeout_ms) {
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &p->status, 0);
			p->done = true;
			return -1;
		}
		sleep_ms(5);
	}
	return exit_code(p);
}

char *sshrpc_test_proc_output(const sshrpc_test_proc *p, size_t *len)
{
	FILE *f = fopen(p->out_path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	if (f != NULL) {
		size_t k;
		while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
			n += k;
			if (cap - n - 1 == 0) {
				char *nb = realloc(buf, cap * 2);
				if (nb == NULL)
					break;
				buf = nb;
				cap *= 2;
			}
		}
		fclose(f);
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

void sshrpc_test_proc_cleanup(sshrpc_test_proc *p)
{
	if (p->pid > 0 && !sshrpc_test_proc_poll(p)) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &p->status, 0);
		p->done = true;
	}
	if (p->out_path[0] != '\0')
		unlink(p->out_path);
	p->out_path[0] = '\0';
}

int sshrpc_test_run(const char *const *argv, int timeout_ms, char **out)
{
	sshrpc_test_proc p;
	if (out != NULL)
		*out = NULL;
	if (sshrpc_test_spawn(&p, argv, NULL) != 0)
		return -1;
	int rc = sshrpc_test_proc_wait(&p, timeout_ms);
	if (out != NULL)
		*out = sshrpc_test_proc_output(&p, NULL);
	sshrpc_test_proc_cleanup(&p);
	return rc;
}

/* ---- ssh ------------------------------------------------------------------------- */

const char *const sshrpc_test_ssh_base_opts[] = { "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
	"StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o",
	"IdentitiesOnly=yes", "-o", "ConnectTimeout=10", NULL };

int sshrpc_test_ssh_argv(const char **argv, size_t cap, char *portbuf, size_t portcap, int port,
	const char *const *extra, const char *const *cmd)
{
	size_t n = 0;
#define ADD(s)                                                                                                         \
	do {                                                                                                           \
		if (n + 1 >= cap)                                                                                      \
			return -1;                                                                                     \
		argv[n++] = (s);                                                                                       \
	} while (0)
	ADD("/usr/bin/ssh");
	for (size_t i = 0; sshrpc_test_ssh_base_opts[i] != NULL; i++)
		ADD(sshrpc_test_ssh_base_opts[i]);
	snprintf(portbuf, portcap, "%d", port);
	ADD("-p");
	ADD(portbuf);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		ADD(extra[i]);
	ADD("127.0.0.1");
	for (size_t i = 0; cmd != NULL && cmd[i] != NULL; i++)
		ADD(cmd[i]);
	argv[n] = NULL;
#undef ADD
	return 0;
}

/* ---- sockets ------------------------------------------------------------------------ */

int sshrpc_test_listen(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
		getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int sshrpc_test_accept(int lfd, int timeout_ms)
{
	struct pollfd pf = { lfd, POLLIN, 0 };
	if (poll(&pf, 1, timeout_ms) <= 0)
		return -1;
	int fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		int one = 1;
		/* peers.md: avoid delayed-ACK stalls */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

int sshrpc_test_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int sshrpc_test_free_port(void)
{
	int port = -1;
	int fd = sshrpc_test_listen(&port);
	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

void sshrpc_test_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char path[1024];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			struct stat st;
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				sshrpc_test_rmtree(path);
			else
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* ---- sshd ---------------------------------------------------------------------------- */

static int keygen(const char *dir, const char *type, char *path, size_t cap)
{
	const char *t = type, *bits = NULL;
	if (strcmp(type, "rsa") == 0) {
		bits = "2048";
	} else if (strncmp(type, "ecdsa", 5) == 0) {
		t = "ecdsa";
		bits = type + 5;
	}
	snprintf(path, cap, "%s/host_%s", dir, type);
	const char *argv[14] = { "/usr/bin/ssh-keygen", "-q", "-N", "", "-C", "", "-t", t, "-f", path };
	size_t n = 10;
	if (bits != NULL && bits[0] != '\0') {
		argv[n++] = "-b";
		argv[n++] = bits;
	}
	argv[n] = NULL;
	return sshrpc_test_run(argv, 30000, NULL) == 0 ? 0 : -1;
}

int sshrpc_test_sshd_start(sshrpc_test_sshd *d, const char *const *host_keys, const char *const *extra)
{
	static const char *const all_keys[] = { "ed25519", "rsa", "ecdsa256", "ecdsa384", "ecdsa521", NULL };
	memset(d, 0, sizeof d[0]);
	d->port = -1;
	snprintf(d->dir, sizeof d->dir, "/tmp/sshrpc-sshd-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		fprintf(stderr, "sshd fixture: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	/* peers.md: sshd needs its privilege separation folder */
	mkdir("/run/sshd", 0755);
	snprintf(d->config, sizeof d->config, "%s/sshd_config", d->dir);
	FILE *f = fopen(d->config, "w");
	if (f == NULL)
		goto fail;
	for (size_t i = 0; (host_keys != NULL ? host_keys : all_keys)[i] != NULL; i++) {
		char path[400];
		if (keygen(d->dir, (host_keys != NULL ? host_keys : all_keys)[i], path, sizeof path) != 0) {
			fprintf(stderr, "sshd fixture: ssh-keygen %s failed\n", (host_keys ? host_keys : all_keys)[i]);
			fclose(f);
			goto fail;
		}
		fprintf(f, "HostKey %s\n", path);
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		d->port = sshrpc_test_free_port();
		if (attempt == 0) {
			fprintf(f,
				"ListenAddress 127.0.0.1\nAuthorizedKeysFile %s/authorized_keys\nPidFile %s/sshd.pid\n"
				"UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
				"KbdInteractiveAuthentication no\nLogLevel DEBUG3\nMaxStartups 1000\n",
				d->dir, d->dir);
			for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
				fprintf(f, "%s\n", extra[i]);
			fclose(f);
			f = NULL;
		}
		char portbuf[16];
		snprintf(portbuf, sizeof portbuf, "%d", d->port);
		const char *argv[] = { "/usr/sbin/sshd", "-D", "-e", "-f", d->config, "-p", portbuf, NULL };
		if (sshrpc_test_spawn(&d->proc, argv, d->dir) != 0)
			goto fail;
		/* wait until it listens (or died: a port race, try another) */
		for (int waited = 0; waited < 10000; waited += 10) {
			if (sshrpc_test_proc_poll(&d->proc))
				break;
			int fd = sshrpc_test_connect(d->port);
			if (fd >= 0) {
				close(fd);
				return 0;
			}
			sleep_ms(10);
		}
		char *log = sshrpc_test_proc_output(&d->proc, NULL);
		fprintf(stderr, "sshd fixture: sshd did not start on port %d:\n%s\n", d->port, log ? log : "");
		free(log);
		sshrpc_test_proc_cleanup(&d->proc);
	}
fail:
	if (f != NULL)
		fclose(f);
	sshrpc_test_rmtree(d->dir);
	return -1;
}

char *sshrpc_test_sshd_log(const sshrpc_test_sshd *d, size_t *len)
{
	return sshrpc_test_proc_output(&d->proc, len);
}

void sshrpc_test_sshd_stop(sshrpc_test_sshd *d)
{
	if (d->proc.pid > 0 && !sshrpc_test_proc_poll(&d->proc)) {
		kill(d->proc.pid, SIGTERM);
		if (sshrpc_test_proc_wait(&d->proc, 3000) < 0 && !d->proc.done)
			kill(d->proc.pid, SIGKILL);
		/* sshd's per-connection children are in its process group */
		kill(-d->proc.pid, SIGKILL);
	}
	sshrpc_test_proc_cleanup(&d->proc);
	if (d->dir[0] != '\0')
		sshrpc_test_rmtree(d->dir);
	d->dir[0] = '\0';
}
