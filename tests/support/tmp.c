/*
 * tmp.c — temp directories for tests: make one, remove one recursively.
 *
 * Callers: broker.c (one dir per broker) and tests that need scratch files
 * (outbox databases, configs). Test thread only; no state.
 *
 * inv. 1: pht_rmtree never follows a symlink out of the tree it removes.
 */
#include "phtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pht_tmpdir(char *out, size_t cap)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (!out || cap == 0)
		return -EINVAL;
	if (!base || !*base)
		base = "/tmp";
	n = snprintf(out, cap, "%s/parkhub-test-XXXXXX", base);
	if (n < 0 || (size_t)n >= cap) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(out)) {
		int e = errno;
		out[0] = '\0';
		return -e;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 ? 0 : errno;
	return unlink(path) == 0 ? 0 : errno;
}

int pht_rmtree(const char *dir)
{
	struct stat st;
	int rc;

	if (!dir || !*dir)
		return -EINVAL;
	if (lstat(dir, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	/* FTW_DEPTH: children before their dir; FTW_PHYS: do not follow links. */
	rc = nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (rc < 0)
		return -errno;
	return rc > 0 ? -rc : 0;
}
