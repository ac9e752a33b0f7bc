/* sshrpc-bench keys: what publickey authentication costs per key type
 * (one signature made by the client plus its check by the server, RFC 4252
 * §7), and loading an encrypted openssh-key-v1 file (bcrypt_pbkdf, 16
 * rounds by default) next to `ssh-keygen -y` loading the same file in the
 * same run (issue 4, "Performance"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "loop.h"
#include "sshrpc/keys.h"

static double now_ms(void)
{
	return (double)loop_now_us() / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct keycase {
	const char *label;
	sshrpc_key_type type;
	unsigned bits;
	const char *alg;
};

static int run_cmd(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int bench_keys_main(int argc, char **argv)
{
	int rounds = 200;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--quick") == 0)
			rounds = 20;
	static const struct keycase cases[] = {
		{ "ssh-ed25519", SSHRPC_KEY_ED25519, 0, "ssh-ed25519" },
		{ "ecdsa-sha2-nistp256", SSHRPC_KEY_ECDSA_P256, 0, "ecdsa-sha2-nistp256" },
		{ "ecdsa-sha2-nistp384", SSHRPC_KEY_ECDSA_P384, 0, "ecdsa-sha2-nistp384" },
		{ "ecdsa-sha2-nistp521", SSHRPC_KEY_ECDSA_P521, 0, "ecdsa-sha2-nistp521" },
		{ "rsa-sha2-512 (2048)", SSHRPC_KEY_RSA, 2048, "rsa-sha2-512" },
		{ "rsa-sha2-512 (3072)", SSHRPC_KEY_RSA, 3072, "rsa-sha2-512" },
		{ "rsa-sha2-512 (4096)", SSHRPC_KEY_RSA, 4096, "rsa-sha2-512" },
	};
	/* What a userauth signature covers: session id, request fields and
	 * the key blob; about 150 bytes with a SHA-256 session id. */
	uint8_t data[160];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	printf("Publickey authentication cost per key type (median of %d; ms)\n", rounds);
	printf("%-22s %10s %10s %10s\n", "signature algorithm", "sign", "verify", "sign+verify");
	double *s = calloc((size_t)rounds, sizeof *s), *v = calloc((size_t)rounds, sizeof *v);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		sshrpc_key *k = NULL;
		if (sshrpc_key_generate(NULL, cases[c].type, cases[c].bits, &k) != SSHRPC_OK) {
			printf("%-22s not built\n", cases[c].label);
			continue;
		}
		sshrpc_buf sig;
		sshrpc_buf_init(&sig, NULL, 0);
		int bad = 0;
		for (int r = 0; r < rounds; r++) {
			sshrpc_buf_reset(&sig);
			double t0 = now_ms();
			if (sshrpc_key_sign(k, cases[c].alg, data, sizeof data, &sig) != SSHRPC_OK)
				bad++;
			double t1 = now_ms();
			if (sshrpc_key_verify(k, cases[c].alg, sshrpc_buf_ptr(&sig), sshrpc_buf_len(&sig), data,
				    sizeof data) != SSHRPC_OK)
				bad++;
			double t2 = now_ms();
			s[r] = t1 - t0;
			v[r] = t2 - t1;
		}
		double ms = median(s, rounds), mv = median(v, rounds);
		printf("%-22s %10.4f %10.4f %10.4f%s\n", cases[c].label, ms, mv, ms + mv, bad ? "  (failures!)" : "");
		sshrpc_buf_free(&sig);
		sshrpc_key_free(k);
	}
	free(s);
	free(v);

	/* Encrypted key load, ours against ssh-keygen's, same file, same run. */
	char dir[] = "/tmp/sshrpc-bench-keys.XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 1;
	char path[256], cmd[1024];
	snprintf(path, sizeof path, "%s/id_ed25519", dir);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -t ed25519 -N benchpass -f %s", path);
	if (run_cmd(cmd) != 0) {
		printf("\nssh-keygen not found: encrypted key load not measured\n");
		rmdir(dir);
		return 0;
	}
	int loads = rounds >= 200 ? 10 : 3;
	double ours[10], theirs[10];
	for (int r = 0; r < loads; r++) {
		uint8_t *buf;
		size_t len;
		sshrpc_err err = { 0 };
		double t0 = now_ms();
		sshrpc_key *k = NULL;
		char comment[128];
		if (sshrpc_keyfile_read(NULL, path, true, &buf, &len, &err) != SSHRPC_OK ||
			sshrpc_privkey_parse(NULL, path, buf, len, "benchpass", &k, comment, sizeof comment, &err) !=
				SSHRPC_OK) {
			printf("load failed: %s\n", err.msg);
			return 1;
		}
		ours[r] = now_ms() - t0;
		sshrpc_keyfile_free(NULL, buf, len);
		sshrpc_key_free(k);
		snprintf(cmd, sizeof cmd, "ssh-keygen -y -P benchpass -f %s >/dev/null", path);
		t0 = now_ms();
		if (run_cmd(cmd) != 0)
			return 1;
		theirs[r] = now_ms() - t0;
	}
	double mo = median(ours, loads), mt = median(theirs, loads);
	printf("\nEncrypted openssh-key-v1 ed25519 key (bcrypt_pbkdf, 16 rounds, aes256-ctr), median of %d loads\n",
		loads);
	printf("  sshrpc (sshrpc_privkey_parse)      %8.1f ms\n", mo);
	printf("  ssh-keygen -y -P (whole process)   %8.1f ms\n", mt);
	printf("  ratio ssh-keygen / sshrpc          %8.2f\n", mt / mo);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return run_cmd(cmd) == 0 ? 0 : 1;
}
