/* Unit tests of common/: config loading, number parsing, uuids, states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"

#include "common/common.h"
#include "common/states.h"


static void test_conf_defaults(void **state)
{
	struct kumo_conf c;
	char err[512] = "";

	(void)state;
	assert_int_equal(conf_load(&c, NULL, err, sizeof err), 0);
	assert_string_equal(c.control_exchange, "kumo");
	assert_int_equal(c.osapi_compute_listen_port, 8774);
	assert_int_equal(c.rpc_response_timeout, 60);
	assert_int_equal(c.max_request_body_size, 114688);
	assert_int_equal(c.client_socket_timeout, 30);
	assert_int_equal(c.max_connections_per_ip, 64);
	assert_int_equal(c.max_limit, 1000);
	assert_true(c.cpu_allocation_ratio == 4.0);
	assert_string_equal(conf_db_path(&c), "/var/lib/kumo/kumo.db");
	assert_true(c.host[0] != '\0');
	assert_string_equal(c.auth_strategy, "keystone");
	assert_false(c.allow_insecure_noauth);
	assert_true(c.identity_enabled);
	assert_int_equal(c.token_expiration, 3600);
	assert_int_equal(c.password_hash_rounds, 12);
	assert_string_equal(c.token_key_repository, "/etc/kumo/fernet-keys");
}

static void test_conf_values(void **state)
{
	struct kumo_conf c;
	char err[512] = "";
	char *p = test_write_tmp(
	    "# comment\n[DEFAULT]\nhost = compute7\ncompute_driver = fake\n"
	    "osapi_compute_listen_port = 18774\n"
	    "[filter_scheduler]\nram_allocation_ratio = 1.5\n"
	    "[database]\nconnection = sqlite:////tmp/x.db\n"
	    "[fake]\nspawn_fail = true\nvcpus = 8\n");

	(void)state;
	assert_int_equal(conf_load(&c, p, err, sizeof err), 0);
	assert_string_equal(c.host, "compute7");
	assert_string_equal(c.compute_driver, "fake");
	assert_int_equal(c.osapi_compute_listen_port, 18774);
	assert_true(c.ram_allocation_ratio == 1.5);
	assert_string_equal(conf_db_path(&c), "/tmp/x.db");
	assert_true(c.fake_spawn_fail);
	assert_int_equal(c.fake_vcpus, 8);
	unlink(p);
}

/* Each bad file names the file and the line of its first error. */
static void test_conf_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} cases[] = {
		{ "[DEFAULT]\nhost = a\nbogus = 1\n", 3, "unknown key 'bogus'" },
		{ "[nosuch]\nx = 1\n", 2, "unknown section [nosuch]" },
		{ "[DEFAULT]\nosapi_compute_listen_port = 70000\n", 2, "not an integer in range" },
		{ "[DEFAULT]\nosapi_compute_listen_port = 12abc\n", 2, "not an integer in range" },
		{ "[DEFAULT]\nrpc_response_timeout = -1\n", 2, "not an integer in range" },
		{ "[DEFAULT]\ncompute_driver = xen\n", 2, "not one of the allowed" },
		{ "[filter_scheduler]\ncpu_allocation_ratio = nan\n", 2, "not a number" },
		{ "[fake]\nspawn_fail = maybe\n", 2, "not a boolean" },
		{ "\n\n[DEFAULT\n", 3, "syntax error" },
	};
	char err[512], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct kumo_conf c;
		char *p = test_write_tmp(cases[i].text);

		err[0] = '\0';
		assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s:%d: ", p, cases[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, cases[i].what) == NULL)
			fail_msg("case %zu: got '%s', want '%s...%s'", i, err, want,
			    cases[i].what);
		unlink(p);
	}
}

/* [service_user]: defaults, and the keys auth_url needs beside it. */
static void test_conf_service_user(void **state)
{
	static const struct {
		const char *text;
		const char *what;  /* NULL = valid */
	} cases[] = {
		{ "[service_user]\nusername = u\n", NULL },
		{ "[service_user]\nauth_url = http://h:8774/identity/v3\n"
		  "username = u\npassword = p\n", NULL },
		{ "[service_user]\nauth_url = https://h/identity/v3\n"
		  "username = u\npassword = p\n", NULL },
		{ "[service_user]\nauth_url = ftp://h/v3\nusername = u\n"
		  "password = p\n", "[service_user] auth_url must start with" },
		{ "[service_user]\nauth_url = http://h/v3\npassword = p\n",
		  "[service_user] username must be set" },
		{ "[service_user]\nauth_url = http://h/v3\nusername = u\n",
		  "[service_user] password must be set" },
		{ "[service_user]\nauth_url = http://h/v3\nusername = u\n"
		  "password = p\nproject_name =\n", "project_name" },
	};
	char err[512], text[1024], *p;
	struct kumo_conf c;

	(void)state;
	assert_int_equal(conf_load(&c, NULL, err, sizeof err), 0);
	assert_string_equal(c.service_auth_url, "");
	assert_string_equal(c.service_project_name, "service");
	assert_string_equal(c.service_user_domain_name, "Default");
	assert_string_equal(c.service_project_domain_name, "Default");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		p = test_write_tmp(cases[i].text);
		err[0] = '\0';
		if (cases[i].what == NULL) {
			if (conf_load(&c, p, err, sizeof err) != 0)
				fail_msg("case %zu: %s", i, err);
		} else if (conf_load(&c, p, err, sizeof err) != -1 ||
		    strncmp(err, p, strlen(p)) != 0 ||
		    strstr(err, cases[i].what) == NULL) {
			fail_msg("case %zu: got '%s', want '%s'", i, err,
			    cases[i].what);
		}
		unlink(p);
	}
	/* a password too long is refused without being echoed (by inih's
	 * line limit, or by the key's size when inih allows longer lines) */
	snprintf(text, sizeof text, "[service_user]\npassword = %0300d\n", 7);
	p = test_write_tmp(text);
	assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
	assert_null(strstr(err, "0000000007"));
	unlink(p);
}

/* [keystone_authtoken]: defaults, bounds, and the keys auth_url needs. */
static void test_conf_authtoken(void **state)
{
	static const struct {
		const char *text;
		const char *what;  /* NULL = valid */
	} cases[] = {
		{ "[keystone_authtoken]\nauth_url = http://h:5000/v3\n"
		  "username = nova\npassword = p\ninterface = public\n"
		  "token_cache_time = 0\n", NULL },
		{ "[keystone_authtoken]\nauth_url = ftp://h/v3\nusername = u\n"
		  "password = p\n", "[keystone_authtoken] auth_url must start with" },
		{ "[keystone_authtoken]\nauth_url = http://h/v3\npassword = p\n",
		  "[keystone_authtoken] username must be set" },
		{ "[keystone_authtoken]\nauth_url = http://h/v3\nusername = u\n",
		  "[keystone_authtoken] password must be set" },
		{ "[keystone_authtoken]\nauth_url = http://h/v3\nusername = u\n"
		  "password = p\nwww_authenticate_uri = h:5000\n",
		  "www_authenticate_uri must start with" },
		{ "[keystone_authtoken]\ntoken_cache_time = 86401\n",
		  "not an integer in range" },
		{ "[keystone_authtoken]\ninterface = private\n",
		  "not one of the allowed" },
		{ "[keystone_authtoken]\npassword = hunter2\ninterface = x\n",
		  "interface" },
	};
	char err[512], *p;
	struct kumo_conf c;

	(void)state;
	assert_int_equal(conf_load(&c, NULL, err, sizeof err), 0);
	assert_string_equal(c.authtoken_auth_url, "");
	assert_string_equal(c.authtoken_project_name, "service");
	assert_string_equal(c.authtoken_project_domain_name, "Default");
	assert_string_equal(c.authtoken_interface, "internal");
	assert_int_equal(c.authtoken_cache_time, 300);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		p = test_write_tmp(cases[i].text);
		err[0] = '\0';
		if (cases[i].what == NULL) {
			if (conf_load(&c, p, err, sizeof err) != 0)
				fail_msg("case %zu: %s", i, err);
		} else if (conf_load(&c, p, err, sizeof err) != -1 ||
		    strstr(err, cases[i].what) == NULL ||
		    strstr(err, "hunter2") != NULL) {
			fail_msg("case %zu: got '%s', want '%s'", i, err,
			    cases[i].what);
		}
		unlink(p);
	}
}

static void test_conf_missing_file(void **state)
{
	struct kumo_conf c;
	char err[512];

	(void)state;
	assert_int_equal(conf_load(&c, "/nonexistent/kumo.conf", err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_num_parse(void **state)
{
	int64_t v;
	int i;
	double d;

	(void)state;
	assert_int_equal(num_parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(num_parse_i64("-1", 0, 100, &v), -1);
	assert_int_equal(num_parse_i64("101", 0, 100, &v), -1);
	assert_int_equal(num_parse_i64("", 0, 100, &v), -1);
	assert_int_equal(num_parse_i64(" 5", 0, 100, &v), -1);
	assert_int_equal(num_parse_i64("5 ", 0, 100, &v), -1);
	assert_int_equal(num_parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
	assert_int_equal(num_parse_int("0x10", 0, 100, &i), -1);
	assert_int_equal(num_parse_double("1.5", 0, 2, &d), 0);
	assert_int_equal(num_parse_double("inf", 0, 1e300, &d), -1);
	assert_int_equal(num_parse_double("1e999", 0, 1e300, &d), -1);
}

static void test_uuid(void **state)
{
	char s[UUID_STR_LEN], h[UUID_HEX_LEN], s2[UUID_STR_LEN];

	(void)state;
	uuid_new_str(s);
	uuid_new_str(s2);
	uuid_new_hex(h);
	assert_true(uuid_valid(s));
	assert_string_not_equal(s, s2);
	assert_int_equal(strlen(h), 32);
	assert_false(uuid_valid(h));
	assert_false(uuid_valid("not-a-uuid"));
	assert_false(uuid_valid("1234567812345678123456781234567812345"));
	assert_false(uuid_valid("g2345678-1234-1234-1234-123456781234"));
	assert_false(uuid_valid(NULL));
	for (int i = 0; i < 64; i++) {  /* random, version 4, variant 1 */
		uuid_new_str(s);
		assert_int_equal(s[14], '4');
		assert_non_null(strchr("89ab", s[19]));
		uuid_new_hex(h);
		assert_int_equal(h[12], '4');
		assert_non_null(strchr("89ab", h[16]));
	}
}

static void test_str(void **state)
{
	char b[4];

	(void)state;
	assert_int_equal(str_copy(b, "abc", sizeof b), 0);
	assert_int_equal(str_copy(b, "abcd", sizeof b), -1);
	assert_string_equal(b, "abc");
	assert_int_equal(str_fmt(b, sizeof b, "%d", 123), 0);
	/* "aé" is 61 c3 a9: a 3-byte buffer must not keep half of the é */
	assert_int_equal(str_copy_utf8(b, "a\xc3\xa9", 3), -1);
	assert_string_equal(b, "a");
	assert_int_equal(str_copy_utf8(b, "abc", sizeof b), 0);
	assert_int_equal(str_copy_utf8(b, "ab\xc3\xa9", sizeof b), -1);
	assert_string_equal(b, "ab");
	/* a complete character just before the cut stays */
	assert_int_equal(str_copy_utf8(b, "a\xc3\xa9x", sizeof b), -1);
	assert_string_equal(b, "a\xc3\xa9");
	assert_int_equal(str_fmt(b, sizeof b, "%d", 1234), -1);
}

static void test_utf8_printable(void **state)
{
	static const char *const ok[] = { "", "plain name", "caf\xc3\xa9",
		"\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80" };
	static const char *const bad[] = { "\x1b[2J", "a\tb", "\x7f",
		"\xc2\x9b", "\xc2\xa0", "\xc2\xad", "\xe2\x80\xae",
		"\xe2\x80\x8b", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xef\xbb\xbf", "\xf3\xa0\x80\x81", "\xff", "\xc3" };

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		assert_true(utf8_printable(ok[i]));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(utf8_printable(bad[i]));
	assert_true(unicode_printable(' '));
	assert_false(unicode_printable(0x3000));
	assert_true(unicode_printable(0x3001));
}

static void test_states(void **state)
{
	(void)state;
	assert_string_equal(state_api_status(VM_STATE_BUILDING, TASK_SCHEDULING), "BUILD");
	assert_string_equal(state_api_status(VM_STATE_ACTIVE, TASK_NONE), "ACTIVE");
	assert_string_equal(state_api_status(VM_STATE_ACTIVE, TASK_DELETING), "ACTIVE");
	assert_string_equal(state_api_status(VM_STATE_ACTIVE, TASK_REBOOTING), "REBOOT");
	assert_string_equal(state_api_status(VM_STATE_STOPPED, TASK_NONE), "SHUTOFF");
	assert_string_equal(state_api_status(VM_STATE_ERROR, TASK_NONE), "ERROR");
	assert_string_equal(state_api_status("weird", TASK_NONE), "UNKNOWN");
	assert_true(state_vm_transition_ok(VM_STATE_BUILDING, VM_STATE_ACTIVE));
	assert_true(state_vm_transition_ok(VM_STATE_BUILDING, VM_STATE_ERROR));
	assert_false(state_vm_transition_ok(VM_STATE_DELETED, VM_STATE_ACTIVE));
	assert_false(state_vm_transition_ok(VM_STATE_STOPPED, VM_STATE_BUILDING));
	assert_false(state_vm_transition_ok("bogus", VM_STATE_ACTIVE));
	assert_true(state_task_valid(TASK_NONE));
	assert_false(state_task_valid("nope"));
}

/* A datagram socket bound at addr (a path, or '@' and an abstract name),
 * named in $NOTIFY_SOCKET as systemd does. */
static int notify_socket(const char *addr, struct sockaddr_un *sa,
    socklen_t *salen)
{
	int fd;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, "%s", addr);
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(addr) + (addr[0] == '/'));
	if (addr[0] == '@')
		sa->sun_path[0] = '\0';
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, *salen), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", addr, 1), 0);
	return fd;
}

static void expect_notify(int fd, const char *want)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* sd_notify's protocol, to a path and to an abstract socket. */
static void test_notify(void **state)
{
	char path[64], abstract[64], long_status[300], want[320];
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;

	(void)state;
	snprintf(path, sizeof path, "/tmp/kumo-notify-%d", (int)getpid());
	unlink(path);
	fd = notify_socket(path, &sa, &salen);
	daemon_ready("serving");
	expect_notify(fd, "READY=1\nSTATUS=serving");
	daemon_watchdog();
	expect_notify(fd, "WATCHDOG=1");
	memset(long_status, 'x', sizeof long_status - 1);
	long_status[sizeof long_status - 1] = '\0';
	daemon_status(long_status);  /* cut at 200 bytes, still sent */
	long_status[200] = '\0';
	snprintf(want, sizeof want, "STATUS=%s", long_status);
	expect_notify(fd, want);
	close(fd);
	unlink(path);
	snprintf(abstract, sizeof abstract, "@kumo-notify-%d", (int)getpid());
	fd = notify_socket(abstract, &sa, &salen);
	daemon_stopping();
	expect_notify(fd, "STOPPING=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
	daemon_watchdog();  /* outside systemd: nothing, no error */
}

/* The message part of one log line written with stderr on a file. */
static void log_capture(char *out, size_t len, const char *fmt, const char *arg)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	const char *msg;
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	log_set_level(LOG_LVL_INFO);
	log_info(fmt, arg);
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	/* one line, newline-terminated */
	assert_true(n > 0 && out[n - 1] == '\n');
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);
	out[n - 1] = '\0';
	/* after "<prog>[pid] LEVEL [req-id] " */
	assert_non_null(msg = strstr(out, "] "));
	assert_non_null(msg = strstr(msg + 2, "] "));
	memmove(out, msg + 2, strlen(msg + 2) + 1);
}

/* What a client sends cannot make a log line of its own, nor reach a
 * terminal as a control sequence. */
static void test_log_escapes(void **state)
{
	char line[8192];
	char big[6000];

	(void)state;
	log_capture(line, sizeof line, "GET %s", "/v2.1/servers\n2026-01-01 "
	    "00:00:00.000 kumo-api[1] ERROR [req-x] forged\r\t");
	assert_string_equal(line, "GET /v2.1/servers\\n2026-01-01 00:00:00.000 "
	    "kumo-api[1] ERROR [req-x] forged\\r\\t");
	log_capture(line, sizeof line, "name %s", "a\x1b[2Jb\x7f\x01");
	assert_string_equal(line, "name a\\x1b[2Jb\\x7f\\x01");
	/* UTF-8 passes; C1 (U+009B CSI), bidi overrides and bytes that are not
	 * UTF-8 are escaped */
	log_capture(line, sizeof line, "%s", "h\xc3\xa9 \xe6\x97\xa5 \xc2\x9b"
	    "1m \xe2\x80\xae" "x \xff\xc3 \xed\xa0\x80 \xc0\xaf");
	assert_string_equal(line, "h\xc3\xa9 \xe6\x97\xa5 \\u009b1m \\u202ex "
	    "\\xff\\xc3 \\xed\\xa0\\x80 \\xc0\\xaf");
	/* a long message is cut on a whole escape, still one line */
	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_capture(line, sizeof line, "%s", big);
	assert_true(strlen(line) > 1000);
	assert_int_equal(strlen(line) % 2, 0);
	assert_null(strchr(line, '\n'));
	log_set_reqid("req-1\nforged");
	log_capture(line, sizeof line, "%s", "x");
	log_set_reqid(NULL);
	assert_string_equal(line, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_values),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_service_user),
		cmocka_unit_test(test_conf_authtoken),
		cmocka_unit_test(test_conf_missing_file),
		cmocka_unit_test(test_num_parse),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_utf8_printable),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_log_escapes),
	};
	log_init("test_common", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
