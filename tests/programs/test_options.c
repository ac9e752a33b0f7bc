#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "sshrpc/common.h"

Test(options, server_names_and_values)
{
	options o;
	char err[256];
	options_init(&o, OPT_SERVER);
	cr_assert_eq(options_set(&o, OPT_SERVER, "MaxAuthTries=3", "-o", err, sizeof err), 0);
	cr_assert_eq(o.max_auth_tries, 3);
	cr_assert_eq(options_set(&o, OPT_SERVER, "LoginGraceTime 2m", "-o", err, sizeof err), 0);
	cr_assert_eq(o.login_grace_ms, 120000);
	cr_assert_eq(options_set(&o, OPT_SERVER, "rekeylimit=1G 1h", "-o", err, sizeof err), 0);
	cr_assert_eq(o.rekey_bytes, 1ull << 30);
	cr_assert_eq(o.rekey_seconds, 3600);
	cr_assert_eq(options_set(&o, OPT_SERVER, "Ciphers=+aes128-cbc", "-o", err, sizeof err), 0);
	cr_assert_str_eq(o.ciphers, "+aes128-cbc");
	cr_assert_eq(options_set(&o, OPT_SERVER, "Subsystem rpc /usr/lib/x", "-o", err, sizeof err), 0);
	cr_assert_str_eq(o.subsystem, "rpc");
	options_free(&o);
}

Test(options, errors_name_the_option)
{
	options o;
	char err[256];
	options_init(&o, OPT_SERVER);
	cr_assert_eq(options_set(&o, OPT_SERVER, "NoSuchThing=1", "-o", err, sizeof err), -1);
	cr_assert_str_eq(err, "-o: unknown option NoSuchThing");
	cr_assert_eq(options_set(&o, OPT_SERVER, "MaxAuthTries=lots", "-o", err, sizeof err), -1);
	cr_assert_str_eq(err, "-o: bad value 'lots' for option MaxAuthTries");
	cr_assert_eq(options_set(&o, OPT_SERVER, "StrictHostKeyChecking=yes", "-o", err, sizeof err), -1,
		"a client option is unknown to the server");
	cr_assert_eq(options_set(&o, OPT_SERVER, "MaxSessions", "-o", err, sizeof err), -1);
	cr_assert_str_eq(err, "-o: option MaxSessions needs a value");
	options_free(&o);
}

Test(options, client_values)
{
	options o;
	char err[256];
	options_init(&o, OPT_CLIENT);
	cr_assert_eq(options_set(&o, OPT_CLIENT, "StrictHostKeyChecking=accept-new", "-o", err, sizeof err), 0);
	cr_assert_eq(o.strict_host_key_checking, 2);
	cr_assert_eq(options_set(&o, OPT_CLIENT, "StrictHostKeyChecking=no", "-o", err, sizeof err), 0);
	cr_assert_eq(o.strict_host_key_checking, 0);
	cr_assert_eq(options_set(&o, OPT_CLIENT, "BatchMode=yes", "-o", err, sizeof err), 0);
	cr_assert(o.batch_mode);
	cr_assert_eq(options_set(&o, OPT_CLIENT, "ConnectTimeout=5", "-o", err, sizeof err), 0);
	cr_assert_eq(o.connect_timeout_ms, 5000);
	options_free(&o);
}

Test(options, config_file_line_numbers)
{
	char path[] = "/tmp/sshrpc-opts-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\nMaxSessions 100\n  LogLevel DEBUG3\nBogus yes\n", f);
	fclose(f);
	options o;
	char err[256], want[512];
	options_init(&o, OPT_SERVER);
	cr_assert_eq(options_read_file(&o, OPT_SERVER, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:5: unknown option Bogus", path);
	cr_assert_str_eq(err, want);
	cr_assert_eq(o.max_sessions, 100);
	cr_assert_eq(o.log_level, SSHRPC_LOG_DEBUG);
	unlink(path);
	options_free(&o);
}

Test(options, time_and_size_formats)
{
	uint64_t v;
	cr_assert_eq(parse_time_ms("1h30m", &v), 0);
	cr_assert_eq(v, 5400000);
	cr_assert_eq(parse_time_ms("10x", &v), -1);
	cr_assert_eq(parse_size("64K", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(parse_size("-1", &v), -1);
}
