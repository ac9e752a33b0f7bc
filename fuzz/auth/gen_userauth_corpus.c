/* Writes the seed corpus of fuzz_userauth_server.c: message sequences in
 * its input format (flags byte, then 2-byte length + message), signed with
 * the RFC 8032 test 1 key over the harness's session id. Built and run by
 * make_corpus.sh; not part of the library or the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshrpc/auth.h"

static const uint8_t seed[32] = { 0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
	0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60 };
static const uint8_t pk[32] = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
	0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a };

static void ok(int rc)
{
	if (rc != SSHRPC_OK) {
		fprintf(stderr, "failed: %d\n", rc);
		exit(1);
	}
}

static sshrpc_buf file;
static sshrpc_buf msg;

static void begin(uint8_t type)
{
	sshrpc_buf_reset(&msg);
	ok(sshrpc_buf_put_u8(&msg, type));
}

static void end(void)
{
	uint8_t len[2] = { (uint8_t)(sshrpc_buf_len(&msg) >> 8), (uint8_t)sshrpc_buf_len(&msg) };
	ok(sshrpc_buf_put(&file, len, 2));
	ok(sshrpc_buf_put(&file, sshrpc_buf_ptr(&msg), sshrpc_buf_len(&msg)));
}

static void request(const char *user, const char *method)
{
	begin(SSH_MSG_USERAUTH_REQUEST);
	ok(sshrpc_buf_put_cstring(&msg, user));
	ok(sshrpc_buf_put_cstring(&msg, "ssh-connection"));
	ok(sshrpc_buf_put_cstring(&msg, method));
}

static void publickey(const sshrpc_key *k, bool sign)
{
	request("fuzz", "publickey");
	ok(sshrpc_buf_put_bool(&msg, sign));
	ok(sshrpc_buf_put_cstring(&msg, "ssh-ed25519"));
	size_t mark;
	ok(sshrpc_buf_string_begin(&msg, &mark));
	ok(sshrpc_key_to_blob(k, &msg));
	sshrpc_buf_string_end(&msg, mark);
	if (sign) {
		uint8_t sid[32];
		memset(sid, 0x5a, sizeof sid);
		sshrpc_buf data;
		sshrpc_buf_init(&data, NULL, 0);
		ok(sshrpc_buf_put_string(&data, sid, 32));
		ok(sshrpc_buf_put(&data, sshrpc_buf_ptr(&msg), sshrpc_buf_len(&msg)));
		ok(sshrpc_buf_string_begin(&msg, &mark));
		ok(sshrpc_key_sign(k, "ssh-ed25519", sshrpc_buf_ptr(&data), sshrpc_buf_len(&data), &msg));
		sshrpc_buf_string_end(&msg, mark);
		sshrpc_buf_free(&data);
	}
	end();
}

static void password(const char *pw)
{
	request("fuzz", "password");
	ok(sshrpc_buf_put_bool(&msg, false));
	ok(sshrpc_buf_put_cstring(&msg, pw));
	end();
}

static void kbd(void)
{
	request("fuzz", "keyboard-interactive");
	ok(sshrpc_buf_put_cstring(&msg, ""));
	ok(sshrpc_buf_put_cstring(&msg, ""));
	end();
}

static void info(const char *answer)
{
	begin(SSH_MSG_USERAUTH_INFO_RESPONSE);
	ok(sshrpc_buf_put_u32(&msg, 1));
	ok(sshrpc_buf_put_cstring(&msg, answer));
	end();
}

static void start(uint8_t flags)
{
	sshrpc_buf_reset(&file);
	ok(sshrpc_buf_put_u8(&file, flags));
}

static void save(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(sshrpc_buf_ptr(&file), 1, sshrpc_buf_len(&file), f) != sshrpc_buf_len(&file))
		exit(1);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *dir = argv[1];
	sshrpc_buf_init(&file, NULL, 0);
	sshrpc_buf_init(&msg, NULL, 0);
	sshrpc_buf b;
	uint8_t sk[64];
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pk, 32);
	sshrpc_buf_init(&b, NULL, 0);
	ok(sshrpc_buf_put_string(&b, pk, 32));
	ok(sshrpc_buf_put_string(&b, sk, 64));
	sshrpc_reader r;
	sshrpc_buf_reader(&b, &r);
	sshrpc_key *k = NULL, *other = NULL;
	ok(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k));
	ok(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &other));

	start(1);
	request("fuzz", "none");
	end();
	save(dir, "none");

	start(1);
	request("fuzz", "none");
	end();
	publickey(k, false);
	publickey(k, true);
	begin(SSH_MSG_GLOBAL_REQUEST);
	ok(sshrpc_buf_put_cstring(&msg, "keepalive@openssh.com"));
	ok(sshrpc_buf_put_bool(&msg, true));
	end();
	save(dir, "publickey_success");

	start(1);
	publickey(other, false);
	publickey(other, true);
	publickey(k, true);
	save(dir, "publickey_refused_then_right");

	start(3);
	publickey(k, true);
	password("wrong");
	password("secret");
	save(dir, "publickey_then_password");

	start(5);
	kbd();
	info("secret");
	info("123456");
	save(dir, "kbdint_two_rounds");

	start(9);
	password("expired");
	password("a");
	password("b");
	save(dir, "password_failures");

	start(0);
	begin(SSH_MSG_SERVICE_REQUEST);
	ok(sshrpc_buf_put_cstring(&msg, "ssh-userauth"));
	end();
	request("fuzz", "none");
	end();
	save(dir, "service_dialogue");

	start(7);
	publickey(k, true);
	publickey(other, true);
	save(dir, "publickey_twice");

	sshrpc_key_free(k);
	sshrpc_key_free(other);
	sshrpc_buf_free(&b);
	sshrpc_buf_free(&file);
	sshrpc_buf_free(&msg);
	return 0;
}
