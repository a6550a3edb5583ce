/* linetail.h — reads complete lines from a file that grows, is rotated
 * (renamed and recreated) or truncated, like `tail -F`, and from stdin.
 *
 * Position = (inode, offset after the last line handed out, line number),
 * so a restarted agent resumes exactly after the last line that made it
 * into a committed batch. Lines longer than PH_LINE_MAX are skipped whole
 * and reported (ph_linetail_next returns PH_ESTRLEN for them once).
 * Never blocks: the fd is read only as far as data is there. */
#ifndef PARKHUB_LINETAIL_H
#define PARKHUB_LINETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sources/source.h"

#define PH_LINE_MAX 65536

struct ph_linetail {
  char path[512]; /* "" for stdin */
  int fd;
  ino_t ino;
  int64_t offset;     /* file offset of buf[start] */
  int64_t lineno;     /* number of the last line handed out */
  char *buf;          /* PH_LINE_MAX + 1 bytes */
  size_t start, len;  /* unconsumed bytes are buf[start .. start+len) */
  bool skipping;      /* inside an over-long line */
  bool eof;           /* stdin closed */
  bool rotated;       /* the path names a new file: finish the old one, then switch */
};

/* Returns 0 or PH_EIO/PH_ENOMEM with err. path NULL: stdin. A missing file
 * is not an error: it is opened when it appears. */
int ph_linetail_open(struct ph_linetail *t, const char *path, const struct ph_source_pos *resume, bool from_start,
                     struct ph_err *err);
void ph_linetail_close(struct ph_linetail *t);

/* 1: *line (NUL-terminated, no newline, valid until the next call) is the
 * next line; 0: none complete now; PH_ESTRLEN: an over-long line was
 * skipped (t->lineno is its number). */
int ph_linetail_next(struct ph_linetail *t, char **line, size_t *len);
/* Checks the path for rotation and truncation (call each period). */
void ph_linetail_poll(struct ph_linetail *t);
/* Position after the last line handed out. */
struct ph_source_pos ph_linetail_pos(const struct ph_linetail *t);
/* SIGHUP: close and reopen the path, keeping the position if it is the same file. */
int ph_linetail_reopen(struct ph_linetail *t);

#endif
