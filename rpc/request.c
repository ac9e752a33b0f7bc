/* The shapes of interface.md's "RPC wire format": recognising requests and
 * replies, building requests from call text (client side), and telling the
 * two forms of an exec command apart. */
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc/rpc.h"

/* {M,F,Args}: atoms and a proper list. */
static bool mfa_body(const sshrpc_term *b, sshrpc_rpc_request *r)
{
	if (b->type != SSHRPC_TERM_TUPLE || b->len != 3)
		return false;
	const sshrpc_term *m = &b->v.elems[0], *f = &b->v.elems[1], *a = &b->v.elems[2];
	size_t n;
	if (m->type != SSHRPC_TERM_ATOM || f->type != SSHRPC_TERM_ATOM || sshrpc_term_list_length(a, &n) != SSHRPC_OK)
		return false;
	r->module = m;
	r->function = f;
	r->args = a;
	r->argc = n;
	return true;
}

int sshrpc_rpc_request_check(const sshrpc_term *t, sshrpc_rpc_request *r)
{
	memset(r, 0, sizeof *r);
	if (t->type != SSHRPC_TERM_TUPLE || t->len < 2 || t->v.elems[0].type != SSHRPC_TERM_ATOM)
		return SSHRPC_E_INVALID;
	const sshrpc_term *tag = &t->v.elems[0];
	if (rpc_atom_eq(tag, "mfa", 3) && t->len == 2) {
		r->kind = SSHRPC_RPC_MFA;
		return mfa_body(&t->v.elems[1], r) ? SSHRPC_OK : SSHRPC_E_INVALID;
	}
	if (rpc_atom_eq(tag, "call", 4) && t->len == 3) {
		r->kind = SSHRPC_RPC_CALL;
		r->id = &t->v.elems[1];
		return mfa_body(&t->v.elems[2], r) ? SSHRPC_OK : SSHRPC_E_INVALID;
	}
	if (rpc_atom_eq(tag, "cast", 4) && t->len == 2) {
		r->kind = SSHRPC_RPC_CAST;
		return mfa_body(&t->v.elems[1], r) ? SSHRPC_OK : SSHRPC_E_INVALID;
	}
	return SSHRPC_E_INVALID;
}

int sshrpc_rpc_request_parse(sshrpc_heap *h, const char *call_text, size_t len, int kind, const sshrpc_term *id,
	sshrpc_term *req, sshrpc_err *err)
{
	sshrpc_term m, f, a;
	int rc = sshrpc_term_parse_call(h, call_text, len, &m, &f, &a, err);
	if (rc != SSHRPC_OK)
		return rc;
	sshrpc_term body = SSHRPC_TUPLE(h, m, f, a);
	sshrpc_term t;
	switch (kind) {
	case SSHRPC_RPC_MFA:
		t = SSHRPC_TUPLE(h, sshrpc_term_atom("mfa"), body);
		break;
	case SSHRPC_RPC_CALL:
		if (id == NULL)
			return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "rpc: a {call,...} request needs an Id");
		t = SSHRPC_TUPLE(h, sshrpc_term_atom("call"), *id, body);
		break;
	case SSHRPC_RPC_CAST:
		t = SSHRPC_TUPLE(h, sshrpc_term_atom("cast"), body);
		break;
	default:
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "rpc: unknown request kind %d", kind);
	}
	if (body.type == SSHRPC_TERM_INVALID || t.type == SSHRPC_TERM_INVALID)
		return sshrpc_err_set(err, h->failed != 0 ? h->failed : SSHRPC_E_NOMEM, 0, "rpc: out of memory");
	*req = t;
	return SSHRPC_OK;
}

static bool ok_or_error(const sshrpc_term *t, sshrpc_rpc_reply *r)
{
	if (t->type != SSHRPC_TERM_TUPLE || t->len != 2)
		return false;
	if (rpc_atom_eq(&t->v.elems[0], "ok", 2))
		r->ok = true;
	else if (rpc_atom_eq(&t->v.elems[0], "error", 5))
		r->ok = false;
	else
		return false;
	r->value = &t->v.elems[1];
	return true;
}

int sshrpc_rpc_reply_check(const sshrpc_term *t, sshrpc_rpc_reply *r)
{
	memset(r, 0, sizeof *r);
	if (ok_or_error(t, r))
		return SSHRPC_OK;
	if (t->type == SSHRPC_TERM_TUPLE && t->len == 3 && rpc_atom_eq(&t->v.elems[0], "reply", 5) &&
		ok_or_error(&t->v.elems[2], r)) {
		r->id = &t->v.elems[1];
		return SSHRPC_OK;
	}
	return SSHRPC_E_INVALID;
}

int sshrpc_rpc_exec_form(const char *cmd, size_t len)
{
	size_t i = 0;
	while (i < len && (cmd[i] == ' ' || cmd[i] == '\t' || cmd[i] == '\n' || cmd[i] == '\r'))
		i++;
	/* a request term is a tuple; call syntax starts with the module atom */
	return i < len && cmd[i] == '{' ? SSHRPC_RPC_EXEC_ETF : SSHRPC_RPC_EXEC_TEXT;
}
