/* The one place in auth/ that touches the file system: read a key,
 * authorized_keys or known_hosts file into bytes, and create a new private
 * key file. Everything else parses bytes; a firmware build leaves this file
 * out (architecture.md, "Crypto boundary"). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_internal.h"

int sshrpc_keyfile_read(
	const sshrpc_alloc *a, const char *path, bool private_key, uint8_t **data, size_t *len, sshrpc_err *err)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: not a regular file", path);
	}
	/* OpenSSH (sshkey_perm_ok) refuses a private key its owner's group or
	 * others may access, when the current user owns it. */
	if (private_key && st.st_uid == getuid() && (st.st_mode & 077) != 0) {
		close(fd);
		return sshrpc_err_set(err, SSHRPC_E_DENIED, 0,
			"%s: permissions %04o are too open: a private key must be readable by its owner only "
			"(chmod 600 %s)",
			path, (unsigned)(st.st_mode & 07777), path);
	}
	if ((uint64_t)st.st_size > SSHRPC_KEYFILE_MAX) {
		close(fd);
		return sshrpc_err_set(
			err, SSHRPC_E_TOO_LARGE, 0, "%s: file larger than %zu bytes", path, (size_t)SSHRPC_KEYFILE_MAX);
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	uint8_t *buf = sshrpc_malloc(a, cap);
	if (buf == NULL) {
		close(fd);
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "%s: out of memory", path);
	}
	for (;;) {
		if (n == cap) {
			/* The file grew since fstat: read on, within the cap. */
			if (cap >= SSHRPC_KEYFILE_MAX) {
				sshrpc_free_secret(a, buf, cap);
				close(fd);
				return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "%s: file larger than %zu bytes",
					path, (size_t)SSHRPC_KEYFILE_MAX);
			}
			size_t ncap = cap * 2 > SSHRPC_KEYFILE_MAX ? SSHRPC_KEYFILE_MAX : cap * 2;
			uint8_t *nb = sshrpc_malloc(a, ncap);
			if (nb == NULL) {
				sshrpc_free_secret(a, buf, cap);
				close(fd);
				return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "%s: out of memory", path);
			}
			memcpy(nb, buf, n);
			sshrpc_free_secret(a, buf, cap);
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			sshrpc_free_secret(a, buf, cap);
			close(fd);
			return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	/* Hand back exactly n bytes so that the size to free is the length. */
	uint8_t *exact = sshrpc_malloc(a, n == 0 ? 1 : n);
	if (exact == NULL) {
		sshrpc_free_secret(a, buf, cap);
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "%s: out of memory", path);
	}
	memcpy(exact, buf, n);
	sshrpc_free_secret(a, buf, cap);
	*data = exact;
	*len = n;
	return SSHRPC_OK;
}

void sshrpc_keyfile_free(const sshrpc_alloc *a, uint8_t *data, size_t len)
{
	if (data == NULL)
		return;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_free_secret(a, data, len == 0 ? 1 : len);
}

int sshrpc_keyfile_write_new(const char *path, const uint8_t *data, size_t len, unsigned mode, sshrpc_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
	if (fd < 0)
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(errno));
	/* The umask may have added nothing but may have taken bits away;
	 * set the mode exactly. */
	if (fchmod(fd, (mode_t)mode) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(e));
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(path);
			return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(e));
		}
		off += (size_t)w;
	}
	int rc_sync = fsync(fd);
	int e_sync = errno;
	if (close(fd) != 0 || rc_sync != 0) {
		int e = rc_sync != 0 ? e_sync : errno;
		unlink(path);
		return sshrpc_err_set(err, SSHRPC_E_IO, 0, "%s: %s", path, strerror(e));
	}
	return SSHRPC_OK;
}
