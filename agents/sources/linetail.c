/* linetail.c — `tail -F` for the agent's file sources (linetail.h).
 *
 * Rotation: when the path names a different inode, the old fd is read to
 * its end first (a logger may write its last lines just before renaming),
 * then the new file is read from offset 0. Truncation: when the file is
 * shorter than our offset, reading restarts at 0 (copytruncate rotation).
 * Callers: src_jsonl.c, src_csv.c, src_stdin.c. One thread.
 */
#include "sources/linetail.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/log.h"

static void open_path(struct ph_linetail *t, int64_t offset, int64_t lineno) {
  int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return; /* not there yet: poll() tries again */
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return;
  }
  if (offset > st.st_size) offset = lineno = 0; /* truncated while we were away */
  if (lseek(fd, offset, SEEK_SET) < 0) {
    close(fd);
    return;
  }
  t->fd = fd;
  t->ino = st.st_ino;
  t->offset = offset;
  t->lineno = lineno;
  t->start = t->len = 0;
  t->skipping = false;
}

int ph_linetail_open(struct ph_linetail *t, const char *path, const struct ph_source_pos *resume, bool from_start,
                     struct ph_err *err) {
  memset(t, 0, sizeof *t);
  t->fd = -1;
  if (!(t->buf = ph_malloc(PH_LINE_MAX + 1))) return ph_fail(err, PH_ENOMEM, "out of memory");
  if (!path) {
    t->fd = STDIN_FILENO;
    return 0;
  }
  if (strlen(path) >= sizeof t->path) return ph_fail(err, PH_EINVAL, "path too long: %.80s", path);
  strcpy(t->path, path);
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (resume && resume->valid && exists && (ino_t)resume->a == st.st_ino) {
    open_path(t, resume->b, resume->c);
  } else if (exists) {
    open_path(t, 0, 0);
    /* A new file (or none recorded): start at its end unless told to read it all. */
    if (t->fd >= 0 && !from_start && !(resume && resume->valid)) {
      t->offset = lseek(t->fd, 0, SEEK_END);
      if (t->offset < 0) t->offset = 0;
    }
  }
  return 0;
}

void ph_linetail_close(struct ph_linetail *t) {
  if (t->fd >= 0 && t->path[0]) close(t->fd);
  t->fd = -1;
  ph_free(t->buf);
  t->buf = NULL;
}

/* Reads what is there into the buffer; returns bytes read, 0 at EOF/no data. */
static ssize_t fill(struct ph_linetail *t) {
  if (t->fd < 0 || t->eof) return 0;
  if (t->start > 0) {
    memmove(t->buf, t->buf + t->start, t->len);
    t->start = 0;
  }
  size_t room = PH_LINE_MAX - t->len;
  if (room == 0) return 0;
  ssize_t n = read(t->fd, t->buf + t->len, room);
  if (n == 0 && !t->path[0]) t->eof = true;
  if (n <= 0) return 0;
  t->len += (size_t)n;
  return n;
}

static void consume(struct ph_linetail *t, size_t n) {
  t->start += n;
  t->len -= n;
  t->offset += (int64_t)n;
}

static void switch_to_new_file(struct ph_linetail *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  t->rotated = false;
  open_path(t, 0, 0);
  PH_INFO("tail", "%s: rotated, reading the new file from its start", t->path);
}

int ph_linetail_next(struct ph_linetail *t, char **line, size_t *len) {
  for (;;) {
    char *nl = t->len ? memchr(t->buf + t->start, '\n', t->len) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - (t->buf + t->start));
      char *s = t->buf + t->start;
      consume(t, n + 1);
      t->lineno++;
      if (t->skipping) {
        t->skipping = false;
        return PH_ESTRLEN;
      }
      if (n && s[n - 1] == '\r') n--;
      s[n] = '\0';
      *line = s;
      *len = n;
      return 1;
    }
    if (t->len == PH_LINE_MAX) { /* no newline in a full buffer: drop it and skip to the next newline */
      consume(t, t->len);
      t->skipping = true;
    }
    if (fill(t) > 0) continue;
    /* Old file drained: a final line without newline still counts. */
    if ((t->rotated || t->eof) && t->len > 0) {
      char *s = t->buf + t->start;
      size_t n = t->len;
      consume(t, n);
      t->lineno++;
      s[n] = '\0';
      *line = s;
      *len = n;
      return 1;
    }
    if (t->rotated) {
      switch_to_new_file(t);
      if (t->fd >= 0) continue;
    }
    return 0;
  }
}

void ph_linetail_poll(struct ph_linetail *t) {
  if (!t->path[0]) return;
  struct stat st;
  if (stat(t->path, &st) != 0) return; /* moved away, new one not there yet */
  if (t->fd < 0) {
    open_path(t, 0, 0);
    return;
  }
  if (st.st_ino != t->ino) {
    t->rotated = true;
    return;
  }
  if (st.st_size < t->offset + (int64_t)t->len) {
    PH_WARN("tail", "%s: truncated to %lld bytes, reading again from its start", t->path, (long long)st.st_size);
    lseek(t->fd, 0, SEEK_SET);
    t->offset = 0;
    t->lineno = 0;
    t->start = t->len = 0;
    t->skipping = false;
  }
}

struct ph_source_pos ph_linetail_pos(const struct ph_linetail *t) {
  return (struct ph_source_pos){.a = (int64_t)t->ino, .b = t->offset, .c = t->lineno, .valid = t->path[0] != 0};
}

int ph_linetail_reopen(struct ph_linetail *t) {
  if (!t->path[0]) return 0;
  struct ph_source_pos pos = ph_linetail_pos(t);
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  struct stat st;
  if (stat(t->path, &st) == 0 && st.st_ino == (ino_t)pos.a)
    open_path(t, pos.b, pos.c);
  else
    open_path(t, 0, 0);
  return 0;
}
