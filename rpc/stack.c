/* The explicit stack behind every walk over a term (decode, encode, print,
 * compare, copy). OTP decodes terms of any depth without recursion
 * (testdata/etf/README.md, "Deep nesting"), and so does rpc/: the depth a
 * peer can reach costs heap memory under a limit, never C stack. */
#include <string.h>

#include "rpc/rpc_internal.h"

void rpc_stack_init(rpc_stack *s, const sshrpc_alloc *a, size_t elem, size_t max)
{
	s->a = a != NULL ? a : sshrpc_alloc_default();
	s->p = s->inline_mem;
	s->n = 0;
	s->elem = elem;
	s->cap = sizeof s->inline_mem / elem;
	s->max = max;
}

void rpc_stack_free(rpc_stack *s)
{
	if (s->p != s->inline_mem)
		sshrpc_free(s->a, s->p, s->cap * s->elem);
	s->p = s->inline_mem;
	s->n = 0;
	s->cap = sizeof s->inline_mem / s->elem;
}

void *rpc_stack_push(rpc_stack *s, int *rc)
{
	if (s->max != 0 && s->n >= s->max) {
		*rc = SSHRPC_E_TOO_LARGE;
		return NULL;
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap * 2;
		if (ncap > SIZE_MAX / s->elem) {
			*rc = SSHRPC_E_TOO_LARGE;
			return NULL;
		}
		uint8_t *np;
		if (s->p == s->inline_mem) {
			np = sshrpc_malloc(s->a, ncap * s->elem);
			if (np != NULL)
				memcpy(np, s->p, s->n * s->elem);
		} else {
			np = sshrpc_realloc(s->a, s->p, s->cap * s->elem, ncap * s->elem);
		}
		if (np == NULL) {
			*rc = SSHRPC_E_NOMEM;
			return NULL;
		}
		s->p = np;
		s->cap = ncap;
	}
	void *f = s->p + s->n * s->elem;
	memset(f, 0, s->elem);
	s->n++;
	*rc = SSHRPC_OK;
	return f;
}
