/* Small helpers shared by auth/'s files. */
#include "auth_internal.h"

void auth_logf(sshrpc_log_fn log, void *ud, int level, const char *fmt, ...)
{
	if (log == NULL)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log(ud, level, msg);
}

char *auth_strndup(const sshrpc_alloc *a, const char *p, size_t n)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	char *s = sshrpc_malloc(a, n + 1);
	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void auth_strfree(const sshrpc_alloc *a, char *s)
{
	if (s == NULL)
		return;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_free(a, s, strlen(s) + 1);
}

int auth_blob_type(const uint8_t *blob, size_t len, const char **name, size_t *name_len)
{
	sshrpc_reader r;
	const uint8_t *p;
	sshrpc_rd_init(&r, blob, len);
	int rc = sshrpc_rd_string(&r, &p, name_len);
	if (rc != SSHRPC_OK)
		return rc;
	*name = (const char *)p;
	return SSHRPC_OK;
}

void auth_copy_text(char *out, size_t cap, const uint8_t *p, size_t n, bool filter)
{
	if (cap == 0)
		return;
	size_t k = n < cap - 1 ? n : cap - 1;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = p[i];
		if (filter && ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f))
			c = '?';
		if (c == 0)
			c = '?';
		out[i] = (char)c;
	}
	out[k] = '\0';
}

bool auth_next_line(const char *s, size_t len, size_t *pos, unsigned *lineno, const char **line, size_t *line_len)
{
	while (*pos < len) {
		size_t j = *pos;
		while (j < len && s[j] != '\n')
			j++;
		const char *l = s + *pos;
		size_t ll = j - *pos;
		*pos = j + 1;
		(*lineno)++;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		size_t k = 0;
		while (k < ll && auth_is_blank(l[k]))
			k++;
		if (k == ll || l[k] == '#')
			continue;
		*line = l;
		*line_len = ll;
		return true;
	}
	return false;
}
