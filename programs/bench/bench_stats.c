/* Samples and their statistics. The paper's method times sets of 10
 * consecutive calls and reports per-call values (set time / 10): mean and
 * σ come from those; median and p99 come from the individual calls of the
 * same run. With several repeats every figure is the median of the
 * repeats' figures, so one disturbed repeat on a shared machine does not
 * move the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rpc.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_series_init(bench_series *s, size_t cap)
{
	memset(s, 0, sizeof *s);
	s->cpu_ns = -1;
	s->lat_us = malloc((cap ? cap : 1) * sizeof *s->lat_us);
	s->done_ns = malloc((cap ? cap : 1) * sizeof *s->done_ns);
	if (s->lat_us == NULL || s->done_ns == NULL) {
		bench_series_free(s);
		return -1;
	}
	s->cap = cap;
	return 0;
}

void bench_series_free(bench_series *s)
{
	free(s->lat_us);
	free(s->done_ns);
	memset(s, 0, sizeof *s);
}

int bench_series_add(bench_series *s, uint64_t sent_ns, uint64_t done_ns)
{
	if (s->n >= s->cap)
		return -1;
	s->lat_us[s->n] = (double)(done_ns - sent_ns) / 1e3;
	s->done_ns[s->n] = done_ns;
	s->n++;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

double bench_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	/* nearest rank */
	double r = ceil(p / 100.0 * (double)n);
	size_t i = r < 1 ? 0 : (size_t)r - 1;
	return v[i < n ? i : n - 1];
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_stats_of(const bench_series *s, bench_stats *out)
{
	memset(out, 0, sizeof *out);
	out->cpu_us = -1;
	if (s->n == 0)
		return;
	out->valid = true;
	if (s->cpu_ns >= 0)
		out->cpu_us = (double)s->cpu_ns / 1e3 / (double)s->n;
	out->calls = s->n;
	out->repeats = 1;
	/* Sets of 10: the interval from the end of the previous set (or the
	 * start) to the end of the set's tenth call. */
	size_t nsets = s->n / 10;
	if (nsets > 0) {
		double sum = 0, sq = 0;
		for (size_t k = 0; k < nsets; k++) {
			uint64_t from = k == 0 ? s->start_ns : s->done_ns[k * 10 - 1];
			double per_call_ms = (double)(s->done_ns[k * 10 + 9] - from) / 1e6 / 10;
			sum += per_call_ms;
			sq += per_call_ms * per_call_ms;
		}
		out->nsets = nsets;
		out->set_sum = sum;
		out->set_sq = sq;
		out->mean_ms = sum / (double)nsets;
		double var = nsets > 1 ? (sq - sum * sum / (double)nsets) / (double)(nsets - 1) : NAN;
		out->sd_ms = nsets > 1 ? (var > 0 ? sqrt(var) : 0) : NAN;
	} else {
		double sum = 0;
		for (size_t i = 0; i < s->n; i++)
			sum += s->lat_us[i] / 1e3;
		out->mean_ms = sum / (double)s->n;
		out->sd_ms = NAN;
	}
	double *v = malloc(s->n * sizeof *v);
	if (v != NULL) {
		memcpy(v, s->lat_us, s->n * sizeof *v);
		out->median_ms = bench_median(v, s->n) / 1e3;
		out->p99_ms = bench_percentile(v, s->n, 99) / 1e3;
		free(v);
	}
	double wall = (double)(s->done_ns[s->n - 1] - s->start_ns) / 1e9;
	out->calls_per_s = wall > 0 ? (double)s->n / wall : 0;
}

void bench_stats_median(const bench_stats *reps, size_t n, bench_stats *out)
{
	memset(out, 0, sizeof *out);
	out->cpu_us = -1;
	double v[5][64], cpu[64]; /* v[1] unused: sigma is pooled */
	size_t m = 0, mc = 0;
	for (size_t i = 0; i < n && m < 64; i++) {
		if (!reps[i].valid)
			continue;
		v[0][m] = reps[i].mean_ms;
		v[2][m] = reps[i].median_ms;
		v[3][m] = reps[i].p99_ms;
		v[4][m] = reps[i].calls_per_s;
		if (reps[i].cpu_us >= 0)
			cpu[mc++] = reps[i].cpu_us;
		out->calls += reps[i].calls;
		m++;
	}
	if (m == 0)
		return;
	out->valid = true;
	out->repeats = m;
	/* the paper's method over every set of every repeat */
	for (size_t i = 0; i < n; i++)
		if (reps[i].valid) {
			out->nsets += reps[i].nsets;
			out->set_sum += reps[i].set_sum;
			out->set_sq += reps[i].set_sq;
		}
	if (out->nsets > 0) {
		double k = (double)out->nsets;
		double var = out->nsets > 1 ? (out->set_sq - out->set_sum * out->set_sum / k) / (k - 1) : NAN;
		out->mean_ms = out->set_sum / k;
		out->sd_ms = out->nsets > 1 ? (var > 0 ? sqrt(var) : 0) : NAN;
	} else {
		out->mean_ms = bench_median(v[0], m);
		out->sd_ms = NAN;
	}
	out->median_ms = bench_median(v[2], m);
	out->p99_ms = bench_median(v[3], m);
	out->calls_per_s = bench_median(v[4], m);
	if (mc > 0)
		out->cpu_us = bench_median(cpu, mc);
}
