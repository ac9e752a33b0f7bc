/* sshrpcd --stdio: one RPC session over stdin and stdout, so that OpenSSH's
 * sshd can offer sshrpc as a subsystem ("Subsystem sshrpc /path/sshrpcd
 * --stdio"), as it offers sftp-server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "options.h"
#include "sshrpc/rpc.h"

int stdio_main(int n_modules, const char *const *modules, const options *o, const char *exec_text);

/* exec_text: sshrpcd --exec TEXT answers one call as the exec mode does
 * (ETF for {mfa,...} text, term text for call syntax) and exits with its
 * status: what `ssh host 'sshrpcd --exec ...'` runs under OpenSSH. */
int stdio_main(int n_modules, const char *const *modules, const options *o, const char *exec_text)
{
	logger lg = { o->log_level, "sshrpcd --stdio" };
	sshrpc_rpc_registry *reg = NULL;
	if (sshrpc_rpc_registry_new(NULL, &reg) != SSHRPC_OK || sshrpc_rpc_sys_register(reg) != SSHRPC_OK) {
		fprintf(stderr, "sshrpcd: cannot set up the RPC registry\n");
		return 2;
	}
	for (int i = 0; i < n_modules; i++) {
		sshrpc_err err = { 0 };
		if (sshrpc_rpc_module_load(reg, modules[i], &err) != SSHRPC_OK) {
			fprintf(stderr, "sshrpcd: --module %s: %s\n", modules[i], err.msg);
			return 2;
		}
	}
	sshrpc_rpc_config cfg = {
		.registry = reg,
		.max_message = o->max_message_size,
		.log = log_from_lib,
		.log_ud = &lg,
		.log_prefix = "stdio",
	};
	sshrpc_rpc_session *s;
	if (sshrpc_rpc_session_new(&cfg, &s) != SSHRPC_OK)
		return 2;
	if (exec_text != NULL) {
		SSHRPC_IGNORE(sshrpc_rpc_session_exec(s, exec_text, strlen(exec_text), loop_now_ms()));
		for (;;) {
			size_t n = 0;
			const uint8_t *p = sshrpc_rpc_session_output(s, &n);
			if (n > 0) {
				fwrite(p, 1, n, stdout);
				sshrpc_rpc_session_consume(s, n);
				continue;
			}
			if (sshrpc_rpc_session_state(s) & SSHRPC_RPC_DONE)
				break;
			uint64_t d, now = loop_now_ms();
			if (sshrpc_rpc_session_next_deadline(s, &d)) {
				if (d > now)
					poll(NULL, 0, (int)(d - now));
				SSHRPC_IGNORE(sshrpc_rpc_session_tick(s, loop_now_ms()));
			} else {
				break;
			}
		}
		fflush(stdout);
		int st = sshrpc_rpc_session_exit_status(s);
		sshrpc_rpc_session_free(s);
		sshrpc_rpc_registry_free(reg);
		return st;
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	static uint8_t in[256 * 1024];
	size_t in_len = 0, in_off = 0;
	bool eof = false;
	for (;;) {
		uint64_t now = loop_now_ms();
		SSHRPC_IGNORE(sshrpc_rpc_session_tick(s, now));
		/* Feed what was read but not yet taken. */
		while (in_off < in_len) {
			size_t used = 0;
			int rc = sshrpc_rpc_session_input(s, in + in_off, in_len - in_off, &used, now);
			in_off += used;
			if (rc == SSHRPC_E_CLOSED)
				in_off = in_len;
			if (rc != SSHRPC_OK)
				break;
		}
		if (in_off == in_len)
			in_off = in_len = 0;
		size_t out_len = 0;
		const uint8_t *out = sshrpc_rpc_session_output(s, &out_len);
		while (out_len > 0) {
			ssize_t w = write(1, out, out_len);
			if (w <= 0)
				break;
			sshrpc_rpc_session_consume(s, (size_t)w);
			out = sshrpc_rpc_session_output(s, &out_len);
		}
		if (out_len > 0 && errno != EAGAIN && errno != EINTR)
			break; /* stdout is gone */
		unsigned st = sshrpc_rpc_session_state(s);
		if ((st & SSHRPC_RPC_DONE) && out_len == 0)
			break;
		struct pollfd pfd[2] = {
			{ 0, (short)(!eof && in_len < sizeof in && (st & SSHRPC_RPC_WANT_INPUT) ? POLLIN : 0), 0 },
			{ 1, (short)(out_len > 0 ? POLLOUT : 0), 0 },
		};
		int timeout = -1;
		uint64_t d;
		if (sshrpc_rpc_session_next_deadline(s, &d))
			timeout = d <= now ? 0 : (int)(d - now);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, in + in_len, sizeof in - in_len);
			if (n > 0) {
				in_len += (size_t)n;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				eof = true;
				/* Take everything read before the EOF first. */
				while (in_off < in_len) {
					size_t used = 0;
					if (sshrpc_rpc_session_input(s, in + in_off, in_len - in_off, &used, now) !=
							SSHRPC_OK &&
						used == 0)
						break;
					in_off += used;
				}
				SSHRPC_IGNORE(sshrpc_rpc_session_input_eof(s, now));
			}
		}
	}
	int status = sshrpc_rpc_session_exit_status(s);
	sshrpc_rpc_session_free(s);
	sshrpc_rpc_registry_free(reg);
	return status;
}
