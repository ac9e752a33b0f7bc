/* Replays a corpus through a harness: each argument is a file or a folder of
 * files. Used by the test suite (every harness's seed corpus is replayed
 * under the sanitizers) and to reproduce a crash afl-fuzz found. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: cannot open\n", path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		return 1;
	}
	sshrpc_fuzz_one(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: not found\n", path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: cannot list\n", path);
		return 1;
	}
	int fails = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char full[4096];
			snprintf(full, sizeof full, "%s/%s", path, names[i]->d_name);
			fails += run_path(full, count);
		}
		free(names[i]);
	}
	free(names);
	return fails;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int fails = 0;
	for (int i = 1; i < argc; i++)
		fails += run_path(argv[i], &count);
	printf("replayed %u inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "no inputs: an empty corpus proves nothing\n");
		return 1;
	}
	return fails != 0;
}
