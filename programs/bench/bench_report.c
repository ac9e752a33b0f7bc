/* What a run found: the table on stdout (next to the paper's Table 1), the
 * targets of issue 7 with met/missed, JSON, and a gnuplot chart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rpc.h"

/* The paper's Table 1 (800 MHz Atom): per-call latency in ms. */
static double paper_ms(const char *mode)
{
	if (strcmp(mode, "exec") == 0)
		return 412;
	if (strcmp(mode, "exec-mod") == 0)
		return 107;
	if (strcmp(mode, "shell") == 0)
		return 8.1;
	return 0;
}

static const char *const rows[] = { "exec", "exec-mod", "shell", "subsystem", "pipe1", "pipe16", "pipe64", "tcp" };

static const char *row_label(const char *mode)
{
	if (strcmp(mode, "pipe1") == 0)
		return "pipelined 1";
	if (strcmp(mode, "pipe16") == 0)
		return "pipelined 16";
	if (strcmp(mode, "pipe64") == 0)
		return "pipelined 64";
	if (strcmp(mode, "tcp") == 0)
		return "TCP floor";
	return mode;
}

static const bench_result *find(const bench_ctx *b, const char *id)
{
	for (int i = 0; i < b->n_res; i++)
		if (strcmp(b->res[i].id, id) == 0)
			return &b->res[i];
	return NULL;
}

static bool ok(const bench_result *r)
{
	return r != NULL && r->error[0] == '\0' && r->st.valid;
}

/* ---- targets ------------------------------------------------------------------------------- */

typedef struct target {
	const char *key;
	const char *text; /* what issue 7 asks */
	bool at_least;	  /* measured >= required (else <=) */
	double required;
	double measured;
	const char *unit; /* "x" or "ms" or "KiB" */
	bool known;
	bool met;
	char basis[200]; /* what the measured figure is made of */
} target;

static void ratio_target(const bench_ctx *b, target *t, const char *num, const char *den, bool cps)
{
	const bench_result *n = find(b, num), *d = find(b, den);
	if (!ok(n) || !ok(d))
		return;
	double x = cps ? n->st.calls_per_s : n->st.median_ms, y = cps ? d->st.calls_per_s : d->st.median_ms;
	if (y <= 0)
		return;
	t->measured = x / y;
	t->known = true;
	char cpu[80] = "";
	const bench_result *th = cps ? d : n, *us = cps ? n : d; /* theirs, ours */
	if (th->side != SIDE_TCP && us->side != SIDE_TCP && th->st.cpu_us >= 0 && us->st.cpu_us > 0)
		snprintf(cpu, sizeof cpu, "; CPU per call %.2f / %.2f us = %.2fx", th->st.cpu_us, us->st.cpu_us,
			th->st.cpu_us / us->st.cpu_us);
	if (cps)
		snprintf(t->basis, sizeof t->basis, "%.0f / %.0f calls/s%s", x, y, cpu);
	else
		snprintf(t->basis, sizeof t->basis, "median %.4g ms / %.4g ms%s", x, y, cpu);
}

static int targets(const bench_ctx *b, target *t, int max)
{
	int n = 0;
	const target defs[] = {
		{ "subsystem_vs_openssh",
			"subsystem, one call at a time: at most 1/2 the latency of OpenSSH (ssh -s, our stdio "
			"subsystem)",
			true, 2, 0, "x", false, false, "" },
		{ "shell_vs_openssh",
			"shell, one call at a time: at most 1/2 the latency of OpenSSH (ssh -s, our stdio subsystem)",
			true, 2, 0, "x", false, false, "" },
		{ "subsystem_vs_tcp", "subsystem, one call at a time: within 3x of a plain TCP loopback round trip",
			false, 3, 0, "x", false, false, "" },
		{ "shell_vs_tcp", "shell, one call at a time: within 3x of a plain TCP loopback round trip", false, 3,
			0, "x", false, false, "" },
		{ "exec_vs_dropbear", "exec: at least 15x faster than dbclient -> Dropbear running true", true, 15, 0,
			"x", false, false, "" },
		{ "exec_vs_openssh", "exec: at least 50x faster than ssh host CALL", true, 50, 0, "x", false, false,
			"" },
		{ "exec_mod_vs_openssh", "exec-mod: at least 50x faster than ControlMaster ssh -S per call", true, 50,
			0, "x", false, false, "" },
		{ "pipe64_vs_openssh", "pipelined 64: at least 1.5x the calls/s of OpenSSH carrying the same frames",
			true, 1.5, 0, "x", false, false, "" },
		{ "sink_aes128gcm", "sys:sink, aes128-gcm@openssh.com: at least 2x OpenSSH's cat >/dev/null", true, 2,
			0, "x", false, false, "" },
		{ "sink_aes128ctr", "sys:sink, aes128-ctr + hmac-sha2-256: at least 2x OpenSSH's cat >/dev/null", true,
			2, 0, "x", false, false, "" },
		{ "conn_cpu", "server CPU per connection (kex + auth + session): at most 0.5 ms", false, 0.5, 0, "ms",
			false, false, "" },
		{ "conn_mem", "server memory per idle authenticated connection: at most 32 KiB", false, 32, 0, "KiB",
			false, false, "" },
	};
	for (size_t i = 0; i < sizeof defs / sizeof defs[0] && n < max; i++)
		t[n++] = defs[i];
	ratio_target(b, &t[0], "openssh.subsystem", "sshrpc.subsystem", false);
	ratio_target(b, &t[1], "openssh.subsystem", "sshrpc.shell", false);
	ratio_target(b, &t[2], "sshrpc.subsystem", "tcp.rtt", false);
	ratio_target(b, &t[3], "sshrpc.shell", "tcp.rtt", false);
	ratio_target(b, &t[4], "dropbear.exec-true", "sshrpc.exec", false);
	ratio_target(b, &t[5], "openssh.exec", "sshrpc.exec", false);
	ratio_target(b, &t[6], "openssh.exec-mod", "sshrpc.exec-mod", false);
	ratio_target(b, &t[7], "sshrpc.pipe64", "openssh.pipe64", true);
	for (int i = 0; i < b->n_tput; i++) {
		const bench_tput *p = &b->tput[i];
		target *x = strcmp(p->cipher, "aes128-gcm@openssh.com") == 0 ? &t[8]
			    : strcmp(p->cipher, "aes128-ctr") == 0	     ? &t[9]
									     : NULL;
		if (x != NULL && p->ours_mbs > 0 && p->openssh_mbs > 0) {
			x->measured = p->ours_mbs / p->openssh_mbs;
			x->known = true;
			double oc = p->ours_cpu.client_ms + p->ours_cpu.server_ms,
			       tc = p->openssh_cpu.client_ms + p->openssh_cpu.server_ms;
			if (p->ours_cpu.client_ms >= 0 && p->ours_cpu.server_ms >= 0 && p->openssh_cpu.client_ms >= 0 &&
				p->openssh_cpu.server_ms >= 0 && oc > 0)
				snprintf(x->basis, sizeof x->basis,
					"%.0f / %.0f MB/s; CPU per MiB %.2f / %.2f ms = %.2fx", p->ours_mbs,
					p->openssh_mbs, tc, oc, tc / oc);
			else
				snprintf(x->basis, sizeof x->basis, "%.0f / %.0f MB/s", p->ours_mbs, p->openssh_mbs);
		}
	}
	if (b->conns.n > 0 && b->conns.error[0] == '\0') {
		t[10].measured = b->conns.cpu_ms;
		t[10].known = true;
		snprintf(t[10].basis, sizeof t[10].basis, "schedstat over %d connections (ticks: %.3f ms)", b->conns.n,
			b->conns.cpu_ms_ticks);
		t[11].measured = b->conns.rss_kib;
		t[11].known = true;
		snprintf(t[11].basis, sizeof t[11].basis, "VmRSS growth / %d connections", b->conns.n);
	}
	for (int i = 0; i < n; i++)
		if (t[i].known)
			t[i].met = t[i].at_least ? t[i].measured >= t[i].required : t[i].measured <= t[i].required;
	return n;
}

/* ---- table ---------------------------------------------------------------------------------- */

static void fmt_ms(char *out, size_t cap, double ms)
{
	if (isnan(ms))
		snprintf(out, cap, "-");
	else if (ms >= 100)
		snprintf(out, cap, "%.1f", ms);
	else if (ms >= 1)
		snprintf(out, cap, "%.3f", ms);
	else
		snprintf(out, cap, "%.4f", ms);
}

static void fmt_cps(char *out, size_t cap, double cps)
{
	if (cps >= 100)
		snprintf(out, cap, "%.0f", cps);
	else
		snprintf(out, cap, "%.3g", cps);
}

static const char *side_name(int side)
{
	switch (side) {
	case SIDE_SSHRPC:
		return "sshrpc";
	case SIDE_OPENSSH:
		return "openssh";
	case SIDE_DROPBEAR:
		return "dropbear";
	default:
		return "tcp";
	}
}

void bench_report_table(const bench_ctx *b, FILE *f)
{
	bool any_pin = false;
	for (int i = 0; i < b->n_res; i++)
		any_pin |= b->res[i].pinned;
	fprintf(f,
		"\nsshrpc-bench: sys:echo(<<%zu bytes>>) per call over loopback, %s, %d CPUs shared with other work\n",
		b->payload, b->cpu_model[0] ? b->cpu_model : "unknown CPU", b->ncpu);
	fprintf(f, "%d repeat%s interleaved across sides; each figure is the median over the repeats\n", b->repeats,
		b->repeats == 1 ? "" : "s");
	fprintf(f, "our client negotiated: %s\n", b->negotiated[0] ? b->negotiated : "?");
	fprintf(f, "load average (1 min) at start %.1f, at end %.1f: above ~0.5 other work shared the CPUs\n",
		b->load_start, b->load_end);
	if (b->target != NULL)
		fprintf(f, "server: --target %s (not started by the bench)\n", b->target);
	if (b->compare && b->sshd_pid > 0)
		fprintf(f, "%s\n",
			b->sshd_homed ? "sshd and Dropbear ran commands with an empty home mounted over the user's (no "
					"~/.bashrc)"
				      : "sshd ran commands in the user's own home: its shell start-up files count in "
					"its figures");
	if (any_pin)
		fprintf(f,
			"rows marked * ran with every process (bench, servers, ssh, sshd children) pinned to CPU %d\n",
			b->cpu);

	fprintf(f, "\nPer-call latency, sshrpc client -> sshrpcd (ms; mean and sigma from sets of 10 calls, the "
		   "paper's method;\n"
		   "CPU us: CPU time per call of every process on the path, client and server, where the bench can "
		   "read it)\n");
	fprintf(f, "%-14s %10s %9s %10s %10s %11s %9s %8s   %s\n", "mode", "mean", "sigma", "median", "p99", "calls/s",
		"calls", "CPU us", "paper Table 1 (800 MHz Atom)");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const bench_result *r = NULL;
		for (int k = 0; k < b->n_res; k++)
			if (strcmp(b->res[k].mode, rows[i]) == 0 &&
				(b->res[k].side == SIDE_SSHRPC || b->res[k].side == SIDE_TCP)) {
				r = &b->res[k];
				break;
			}
		if (r == NULL)
			continue;
		char label[32];
		snprintf(label, sizeof label, "%s%s", row_label(rows[i]), r->pinned ? " *" : "");
		double p = paper_ms(rows[i]);
		char ps[32] = "";
		if (p > 0)
			snprintf(ps, sizeof ps, "%g ms", p);
		if (!ok(r)) {
			fprintf(f, "%-14s %s%s\n", label, "not measured: ", r->error[0] ? r->error : "no data");
			continue;
		}
		char m[16], sd[16], md[16], p99[16], cps[16];
		fmt_ms(m, sizeof m, r->st.mean_ms);
		fmt_ms(sd, sizeof sd, r->st.sd_ms);
		fmt_ms(md, sizeof md, r->st.median_ms);
		fmt_ms(p99, sizeof p99, r->st.p99_ms);
		fmt_cps(cps, sizeof cps, r->st.calls_per_s);
		char cpu[16] = "-";
		if (r->st.cpu_us >= 0)
			snprintf(cpu, sizeof cpu, "%.2f", r->st.cpu_us);
		fprintf(f, "%-14s %10s %9s %10s %10s %11s %9zu %8s   %s\n", label, m, sd, md, p99, cps, r->st.calls,
			cpu, ps);
	}

	if (!b->compare)
		fprintf(f, "\nOpenSSH and Dropbear: not measured (--compare asks for them)\n");
	else
		fprintf(f,
			"\nThe same calls by OpenSSH%s%s%s (ratio: their median latency / ours; pipelined: our calls/s "
			"/ theirs)\n"
			"%-14s %-44s %10s %10s %11s %9s %8s %9s\n",
			b->ssh_version[0] ? " (" : "", b->ssh_version, b->ssh_version[0] ? ")" : "", "mode", "what",
			"median", "p99", "calls/s", "ratio", "CPU us", "CPU ratio");
	for (int k = 0; k < b->n_res && b->compare; k++) {
		const bench_result *r = &b->res[k];
		if (r->side != SIDE_OPENSSH && r->side != SIDE_DROPBEAR)
			continue;
		char label[32], what[64];
		snprintf(label, sizeof label, "%s%s", row_label(r->mode), r->pinned ? " *" : "");
		const char *w = strcmp(r->id, "openssh.exec") == 0	   ? "ssh host '<sshrpcd> --exec CALL'"
				: strcmp(r->id, "openssh.exec-true") == 0  ? "ssh host true (no RPC: sshd's floor)"
				: strcmp(r->id, "dropbear.exec-true") == 0 ? "dbclient host true (Dropbear)"
				: strcmp(r->id, "openssh.exec-mod") == 0   ? "ssh -S CTL host '<sshrpcd> --exec CALL'"
									   : "ssh -s host sshrpc (our stdio server)";
		snprintf(what, sizeof what, "%s", w);
		if (!ok(r)) {
			fprintf(f, "%-14s %-44s not measured: %s\n", label, what, r->error[0] ? r->error : "no data");
			continue;
		}
		char ours_id[48];
		snprintf(ours_id, sizeof ours_id, "sshrpc.%s", r->mode);
		const bench_result *o = find(b, ours_id);
		char ratio[32] = "-";
		if (ok(o)) {
			if (r->depth > 1)
				snprintf(ratio, sizeof ratio, "%.2fx", o->st.calls_per_s / r->st.calls_per_s);
			else
				snprintf(ratio, sizeof ratio, "%.1fx", r->st.median_ms / o->st.median_ms);
		}
		char md[16], p99[16], cps[16];
		fmt_ms(md, sizeof md, r->st.median_ms);
		fmt_ms(p99, sizeof p99, r->st.p99_ms);
		fmt_cps(cps, sizeof cps, r->st.calls_per_s);
		char cpu[16] = "-", cratio[16] = "-";
		if (r->st.cpu_us >= 0)
			snprintf(cpu, sizeof cpu, "%.2f", r->st.cpu_us);
		if (r->st.cpu_us >= 0 && ok(o) && o->st.cpu_us > 0)
			snprintf(cratio, sizeof cratio, "%.2fx", r->st.cpu_us / o->st.cpu_us);
		fprintf(f, "%-14s %-44s %10s %10s %11s %9s %8s %9s\n", label, what, md, p99, cps, ratio, cpu, cratio);
	}

	if (b->n_tput > 0) {
		fprintf(f,
			"\nBulk: sys:sink(<<1 MiB>>) frames on our subsystem vs ssh -c CIPHER host 'cat >/dev/null' "
			"fed the same "
			"bytes (%llu MiB per run; MB = 10^6 bytes)\n",
			(unsigned long long)(b->bulk_bytes >> 20));
		fprintf(f, "%-44s %12s %14s %8s\n", "cipher", "ours MB/s", "OpenSSH MB/s", "ratio");
		for (int i = 0; i < b->n_tput; i++) {
			const bench_tput *t = &b->tput[i];
			char name[128];
			snprintf(name, sizeof name, "%s%s%s", t->cipher, t->mac[0] ? " + " : "", t->mac);
			char ratio[16] = "-";
			if (t->ours_mbs > 0 && t->openssh_mbs > 0)
				snprintf(ratio, sizeof ratio, "%.2fx", t->ours_mbs / t->openssh_mbs);
			char theirs[32] = "not asked";
			if (b->compare)
				snprintf(theirs, sizeof theirs, "%.0f", t->openssh_mbs);
			fprintf(f, "%-44s %12.0f %14s %8s%s%s\n", name, t->ours_mbs, theirs, ratio,
				t->error[0] ? "  " : "", t->error);
		}
		if (b->compare)
			fprintf(f,
				"CPU per MiB carried (ms, client + server): OpenSSH's client is ssh plus this process "
				"feeding "
				"its pipe,\nits server the session's sshd processes (cat not counted). Other load "
				"stretches MB/s, "
				"not these.\n%-44s %18s %18s %8s\n",
				"cipher", "ours", "OpenSSH", "ratio");
		else
			fprintf(f,
				"CPU per MiB carried (ms, client + server; the server's only when the bench started "
				"it)\n"
				"%-44s %18s\n",
				"cipher", "ours");
		for (int i = 0; i < b->n_tput; i++) {
			const bench_tput *t = &b->tput[i];
			char name[128], o[40] = "-", p[40] = "-", ratio[16] = "-";
			snprintf(name, sizeof name, "%s%s%s", t->cipher, t->mac[0] ? " + " : "", t->mac);
			double os = t->ours_cpu.client_ms + t->ours_cpu.server_ms,
			       ts = t->openssh_cpu.client_ms + t->openssh_cpu.server_ms;
			if (t->ours_cpu.client_ms >= 0 && t->ours_cpu.server_ms >= 0)
				snprintf(o, sizeof o, "%.2f + %.2f", t->ours_cpu.client_ms, t->ours_cpu.server_ms);
			else if (t->ours_cpu.client_ms >= 0)
				snprintf(o, sizeof o, "%.2f + ?", t->ours_cpu.client_ms);
			if (t->openssh_cpu.client_ms >= 0 && t->openssh_cpu.server_ms >= 0)
				snprintf(
					p, sizeof p, "%.2f + %.2f", t->openssh_cpu.client_ms, t->openssh_cpu.server_ms);
			if (t->ours_cpu.client_ms >= 0 && t->ours_cpu.server_ms >= 0 && t->openssh_cpu.client_ms >= 0 &&
				t->openssh_cpu.server_ms >= 0 && os > 0)
				snprintf(ratio, sizeof ratio, "%.2fx", ts / os);
			if (b->compare)
				fprintf(f, "%-44s %18s %18s %8s\n", name, o, p, ratio);
			else
				fprintf(f, "%-44s %18s\n", name, o);
		}
	}

	const bench_conns *c = &b->conns;
	if (c->n > 0) {
		fprintf(f,
			"\nPer connection on the server (%d idle authenticated sessions, each with an open subsystem "
			"channel)\n",
			c->n);
		if (c->error[0] != '\0')
			fprintf(f, "  sshrpcd: not measured: %s\n", c->error);
		else
			fprintf(f,
				"  sshrpcd: %.3f ms CPU (schedstat; %.3f ms from utime+stime ticks, of which %.3f ms "
				"in the kernel), "
				"%.1f KiB VmRSS per connection\n",
				c->cpu_ms, c->cpu_ms_ticks, c->sys_ms_ticks, c->rss_kib);
		if (c->o_error[0] != '\0')
			fprintf(f, "  OpenSSH sshd: not measured: %s\n", c->o_error);
		else if (c->n_openssh > 0)
			fprintf(f,
				"  OpenSSH sshd (%d connections): %.2f ms CPU, %.0f KiB RSS (%.0f KiB PSS) in its sshd "
				"processes, plus "
				"%.0f KiB RSS for the subsystem process, per connection\n",
				c->n_openssh, c->o_cpu_ms, c->o_rss_kib, c->o_pss_kib, c->o_sub_rss_kib);
	}

	target t[16];
	int nt = targets(b, t, 16);
	fprintf(f, "\nTargets of issue 7 (ratios from this run)\n");
	char missing[400] = "";
	size_t ml = 0;
	for (int i = 0; i < nt; i++) {
		char need[32], got[32];
		if (!t[i].known) {
			/* said once, below, not as a row of n/a */
			if (ml + strlen(t[i].key) + 3 < sizeof missing)
				ml += (size_t)snprintf(
					missing + ml, sizeof missing - ml, "%s%s", ml ? ", " : "", t[i].key);
			continue;
		}
		snprintf(need, sizeof need, "%s %g%s", t[i].at_least ? ">=" : "<=", t[i].required, t[i].unit);
		if (t[i].known)
			snprintf(got, sizeof got, "%.3g%s", t[i].measured, t[i].unit);
		else
			snprintf(got, sizeof got, "n/a");
		const char *verdict = !t[i].known ? "n/a" : t[i].met ? "met" : "MISSED";
		char by[48] = "";
		if (t[i].known && !t[i].met && t[i].measured > 0)
			snprintf(by, sizeof by, " (short by %.2fx)",
				t[i].at_least ? t[i].required / t[i].measured : t[i].measured / t[i].required);
		fprintf(f, "  %-6s %-12s %-10s %s%s\n", verdict, need, got, t[i].text, by);
		if (t[i].known && t[i].basis[0] != '\0')
			fprintf(f, "  %-6s %-12s %-10s   (%s)\n", "", "", "", t[i].basis);
	}
	if (missing[0] != '\0')
		fprintf(f, "  not measured in this run: %s\n", missing);
	fprintf(f, "\n(%.0f s)\n", b->elapsed_s);
	fflush(f);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

int bench_report_json(const bench_ctx *b, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (f == NULL)
		return -1;
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n  \"tool\": \"sshrpc-bench\",\n  \"command\": ");
	jstr(f, b->command);
	fprintf(f, ",\n  \"date\": \"%s\",\n  \"cpu\": ", date);
	jstr(f, b->cpu_model);
	fprintf(f, ",\n  \"cpus\": %d,\n  \"openssh\": ", b->ncpu);
	jstr(f, b->ssh_version);
	fprintf(f, ",\n  \"dropbear\": ");
	jstr(f, b->db_version);
	fprintf(f, ",\n  \"negotiated\": ");
	jstr(f, b->negotiated);
	fprintf(f, ",\n  \"payload_bytes\": %zu,\n  \"repeats\": %d,\n  \"quick\": %s,\n  \"pinned_cpu\": %d,\n",
		b->payload, b->repeats, b->quick ? "true" : "false", b->pin ? b->cpu : -1);
	fprintf(f, "  \"load_average_start\": ");
	jnum(f, b->load_start);
	fprintf(f, ",\n  \"load_average_end\": ");
	jnum(f, b->load_end);
	fprintf(f, ",\n  \"elapsed_s\": ");
	jnum(f, b->elapsed_s);
	fprintf(f, ",\n  \"latency\": [\n");
	for (int i = 0; i < b->n_res; i++) {
		const bench_result *r = &b->res[i];
		fprintf(f, "    {\"id\": ");
		jstr(f, r->id);
		fprintf(f, ", \"mode\": ");
		jstr(f, r->mode);
		fprintf(f, ", \"side\": \"%s\", \"outstanding\": %d, \"pinned\": %s, \"what\": ", side_name(r->side),
			r->depth, r->pinned ? "true" : "false");
		jstr(f, r->what);
		if (ok(r)) {
			fprintf(f,
				", \"calls\": %zu, \"repeats\": %zu, \"sets_of_10\": %zu, \"mean_ms\": ", r->st.calls,
				r->st.repeats, r->st.nsets);
			jnum(f, r->st.mean_ms);
			fprintf(f, ", \"sd_ms\": ");
			jnum(f, r->st.sd_ms);
			fprintf(f, ", \"median_ms\": ");
			jnum(f, r->st.median_ms);
			fprintf(f, ", \"p99_ms\": ");
			jnum(f, r->st.p99_ms);
			fprintf(f, ", \"calls_per_s\": ");
			jnum(f, r->st.calls_per_s);
			if (r->st.cpu_us >= 0) {
				fprintf(f, ", \"cpu_us_per_call\": ");
				jnum(f, r->st.cpu_us);
			}
		} else {
			fprintf(f, ", \"error\": ");
			jstr(f, r->error[0] ? r->error : "no data");
		}
		double p = paper_ms(r->mode);
		if (p > 0 && r->side == SIDE_SSHRPC)
			fprintf(f, ", \"paper_ms\": %g", p);
		fprintf(f, "}%s\n", i + 1 < b->n_res ? "," : "");
	}
	fprintf(f, "  ],\n  \"bulk\": [\n");
	for (int i = 0; i < b->n_tput; i++) {
		const bench_tput *t = &b->tput[i];
		fprintf(f, "    {\"cipher\": ");
		jstr(f, t->cipher);
		fprintf(f, ", \"mac\": ");
		jstr(f, t->mac);
		fprintf(f, ", \"bytes\": %llu, \"sshrpc_mb_s\": ", (unsigned long long)t->bytes);
		jnum(f, t->ours_mbs);
		fprintf(f, ", \"openssh_mb_s\": ");
		jnum(f, t->openssh_mbs);
		fprintf(f, ", \"sshrpc_cpu_ms_per_mib\": {\"client\": ");
		jnum(f, t->ours_cpu.client_ms >= 0 ? t->ours_cpu.client_ms : NAN);
		fprintf(f, ", \"server\": ");
		jnum(f, t->ours_cpu.server_ms >= 0 ? t->ours_cpu.server_ms : NAN);
		fprintf(f, "}, \"openssh_cpu_ms_per_mib\": {\"client\": ");
		jnum(f, t->openssh_cpu.client_ms >= 0 ? t->openssh_cpu.client_ms : NAN);
		fprintf(f, ", \"server\": ");
		jnum(f, t->openssh_cpu.server_ms >= 0 ? t->openssh_cpu.server_ms : NAN);
		fprintf(f, "}");
		if (t->error[0] != '\0') {
			fprintf(f, ", \"error\": ");
			jstr(f, t->error);
		}
		fprintf(f, "}%s\n", i + 1 < b->n_tput ? "," : "");
	}
	const bench_conns *c = &b->conns;
	fprintf(f, "  ],\n  \"connections\": {\"n\": %d", c->n);
	if (c->n > 0) {
		if (c->error[0] == '\0') {
			fprintf(f, ", \"sshrpcd_cpu_ms\": ");
			jnum(f, c->cpu_ms);
			fprintf(f, ", \"sshrpcd_cpu_ms_ticks\": ");
			jnum(f, c->cpu_ms_ticks);
			fprintf(f, ", \"sshrpcd_sys_ms_ticks\": ");
			jnum(f, c->sys_ms_ticks);
			fprintf(f, ", \"sshrpcd_rss_kib\": ");
			jnum(f, c->rss_kib);
		} else {
			fprintf(f, ", \"sshrpcd_error\": ");
			jstr(f, c->error);
		}
		if (c->o_error[0] == '\0') {
			fprintf(f, ", \"openssh_n\": %d, \"openssh_cpu_ms\": ", c->n_openssh);
			jnum(f, c->o_cpu_ms);
			fprintf(f, ", \"openssh_rss_kib\": ");
			jnum(f, c->o_rss_kib);
			fprintf(f, ", \"openssh_pss_kib\": ");
			jnum(f, c->o_pss_kib);
			fprintf(f, ", \"openssh_subsystem_rss_kib\": ");
			jnum(f, c->o_sub_rss_kib);
		} else {
			fprintf(f, ", \"openssh_error\": ");
			jstr(f, c->o_error);
		}
	}
	fprintf(f, "},\n  \"targets\": [\n");
	target t[16];
	int nt = targets(b, t, 16);
	for (int i = 0; i < nt; i++) {
		fprintf(f, "    {\"key\": \"%s\", \"target\": ", t[i].key);
		jstr(f, t[i].text);
		fprintf(f, ", \"required\": \"%s%g%s\", \"measured\": ", t[i].at_least ? ">=" : "<=", t[i].required,
			t[i].unit);
		if (t[i].known)
			jnum(f, t[i].measured);
		else
			fputs("null", f);
		fprintf(f, ", \"unit\": \"%s\", \"basis\": ", t[i].unit);
		jstr(f, t[i].basis);
		fprintf(f, ", \"met\": %s}%s\n",
			!t[i].known ? "null"
			: t[i].met  ? "true"
				    : "false",
			i + 1 < nt ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (f == stdout)
		return fflush(f) == 0 ? 0 : -1;
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- plot -------------------------------------------------------------------------------------- */

int bench_report_plot(const bench_ctx *b, const char *path, char *err, size_t errlen)
{
	if (!bench_have("/usr/bin/gnuplot") && !bench_have("/usr/local/bin/gnuplot")) {
		snprintf(err, errlen, "gnuplot is not installed");
		return -1;
	}
	size_t pl = strlen(path);
	bool svg = pl > 4 && strcmp(path + pl - 4, ".svg") == 0;
	char data[PATH_MAX], script[PATH_MAX];
	snprintf(data, sizeof data, "%s/plot.dat", b->dir);
	snprintf(script, sizeof script, "%s/plot.gp", b->dir);
	FILE *d = fopen(data, "w");
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot write", data);
		return -1;
	}
	/* one row per mode: ours, OpenSSH, and the third party of that row
	 * (Dropbear for exec, the TCP floor for subsystem) */
	static const char *const prow[][4] = {
		{ "exec", "sshrpc.exec", "openssh.exec", "dropbear.exec-true" },
		{ "exec-mod", "sshrpc.exec-mod", "openssh.exec-mod", NULL },
		{ "shell", "sshrpc.shell", NULL, NULL },
		{ "subsystem", "sshrpc.subsystem", "openssh.subsystem", "tcp.rtt" },
		{ "pipelined-1", "sshrpc.pipe1", "openssh.pipe1", NULL },
		{ "pipelined-16\\n(1/calls/s)", "sshrpc.pipe16", "openssh.pipe16", NULL },
		{ "pipelined-64\\n(1/calls/s)", "sshrpc.pipe64", "openssh.pipe64", NULL },
	};
	for (size_t i = 0; i < sizeof prow / sizeof prow[0]; i++) {
		fprintf(d, "\"%s\"", prow[i][0]);
		for (int k = 1; k < 4; k++) {
			const bench_result *r = prow[i][k] ? find(b, prow[i][k]) : NULL;
			/* with calls in flight, latency is mostly queueing: the
			 * figure of merit is the time per call */
			if (ok(r) && r->depth > 1)
				fprintf(d, " %.6g", 1e3 / r->st.calls_per_s);
			else if (ok(r))
				fprintf(d, " %.6g", r->st.median_ms);
			else
				fprintf(d, " ?");
		}
		fprintf(d, "\n");
	}
	fclose(d);
	FILE *s = fopen(script, "w");
	if (s == NULL) {
		snprintf(err, errlen, "%s: cannot write", script);
		return -1;
	}
	if (svg)
		fprintf(s, "set terminal svg size 1000,560 dynamic font 'sans,11' background rgb 'white'\n");
	else
		fprintf(s, "set terminal pngcairo size 1000,560 font 'sans,10'\n");
	fprintf(s, "set output '%s'\n", path);
	fprintf(s,
		"set termoption noenhanced\n"
		"set datafile missing '?'\n"
		"set title 'sshrpc-bench: ms per sys:echo call (median latency; pipelined: 1/throughput), loopback, %d "
		"shared CPUs'\n"
		"set ylabel 'ms per call'\n"
		"set logscale y\n"
		"set format y '%%g'\n"
		"set yrange [0.001:3000]\n"
		"set grid ytics\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set boxwidth 0.9\n"
		"set key top right\n"
		"set bmargin 4\n"
		"plot '%s' using 2:xtic(1) title 'sshrpc (ours)' lc rgb '#1f77b4', \\\n"
		"     '' using 3 title 'OpenSSH (%s)' lc rgb '#d62728', \\\n"
		"     '' using 4 title 'Dropbear (exec) / plain TCP round trip (subsystem)' lc rgb '#7f7f7f'\n",
		b->ncpu, data, b->ssh_version[0] ? b->ssh_version : "ssh");
	fclose(s);
	char out[1024];
	char *argv[] = { "gnuplot", script, NULL };
	if (bench_run(argv, out, sizeof out) != 0) {
		snprintf(err, errlen, "gnuplot: %.200s", out);
		return -1;
	}
	return 0;
}
