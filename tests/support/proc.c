/*
 * proc.c — child processes for tests: spawn with a log, signal, bounded
 * wait, stop (TERM then KILL), and run-to-completion with captured output.
 *
 * Callers: broker.c (mosquitto) and integration tests (parkhub, parkagent,
 * mosquitto_pub/sub). Test thread only; the test process may already run
 * Paho threads, so the child does only async-signal-safe work between fork
 * and exec.
 *
 * inv. 1: every child leads its own process group (pgid == pid); signals go
 *         to that group, so a child's own children are reached too.
 * inv. 2: a group is signalled only while its leader is unreaped (a zombie
 *         at worst), so its number cannot belong to anyone else yet.
 * inv. 3: every wait is bounded by the caller's timeout; pid is set to 0
 *         exactly when the child has been reaped.
 * inv. 4: a child gets SIGKILL when the thread that spawned it exits
 *         (PR_SET_PDEATHSIG): a test that fails an assertion, crashes or
 *         times out never leaves a broker, hub or agent behind. Spawn from
 *         the test's own thread, not from a short-lived helper thread.
 */
#include "phtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: reset signals, own group, die with the parent (inv. 4),
 * wire fds, exec; report errno. */
static void child_exec(const char *const argv[], int outfd, int errfd, pid_t parent)
{
	struct sigaction sa;
	sigset_t all;
	int e, nul, fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
		e = ECHILD;
		goto report;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0);

	nul = open("/dev/null", O_RDWR);
	fd = outfd >= 0 ? outfd : nul;
	if (nul < 0 || fd < 0)
		goto fail;
	if (fd <= 2 && (fd = fcntl(fd, F_DUPFD, 3)) < 0)
		goto fail;
	if (dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	execv(argv[0], (char *const *)argv);
fail:
	e = errno;
report:
	while (write(errfd, &e, sizeof e) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* fork+exec with stdout+stderr on outfd (-1: /dev/null). */
static int spawn(const char *const argv[], int outfd, pid_t *out_pid)
{
	int ep[2], e = 0;
	ssize_t n;
	pid_t pid, parent = getpid();

	if (!argv || !argv[0] || !out_pid)
		return -EINVAL;
	if (pipe2(ep, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return -e;
	}
	if (pid == 0)
		child_exec(argv, outfd, ep[1], parent);

	close(ep[1]);
	setpgid(pid, pid); /* also done by the child; whichever runs first wins */
	do
		n = read(ep[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof e) { /* exec failed: collect the child */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -(e ? e : EIO);
	}
	*out_pid = pid;
	return 0;
}

int pht_proc_spawn(struct pht_proc *p, const char *const argv[], const char *logpath)
{
	int fd = -1, rc;

	if (!p)
		return -EINVAL;
	p->pid = 0;
	p->log[0] = '\0';
	if (logpath && *logpath) {
		if (strlen(logpath) >= sizeof p->log)
			return -ENAMETOOLONG;
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		strcpy(p->log, logpath);
	}
	rc = spawn(argv, fd, &p->pid);
	if (fd >= 0)
		close(fd);
	return rc;
}

int pht_proc_kill(struct pht_proc *p, int sig)
{
	if (!p || p->pid <= 0)
		return -ESRCH;
	if (kill(-p->pid, sig) == 0)
		return 0;
	if (errno == ESRCH && kill(p->pid, sig) == 0)
		return 0;
	return -errno;
}

/* 1 when pid has exited (not reaped), 0 while running, -errno. */
static int exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == EINTR ? 0 : -errno;
	return si.si_pid == pid;
}

/* Waits until pid has exited, without reaping. 0, -ETIMEDOUT, -errno. */
static int wait_exited(pid_t pid, int timeout_ms)
{
	long long deadline = pht_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int nap = 1, rc;

	for (;;) {
		rc = exited(pid);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		long long left = deadline - pht_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		pht_sleep_ms(nap < left ? nap : (int)left);
		if (nap < 20)
			nap *= 2;
	}
}

static int reap(struct pht_proc *p, int *status)
{
	int st = 0;
	pid_t r;

	do
		r = waitpid(p->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	p->pid = 0;
	if (r < 0)
		return -errno;
	if (status)
		*status = st;
	return 0;
}

int pht_proc_wait(struct pht_proc *p, int timeout_ms, int *status)
{
	int rc;

	if (!p || p->pid <= 0)
		return -ECHILD;
	rc = wait_exited(p->pid, timeout_ms);
	if (rc == -ECHILD)
		p->pid = 0;
	if (rc != 0)
		return rc;
	return reap(p, status);
}

int pht_proc_stop(struct pht_proc *p, int timeout_ms)
{
	int killed = 0, rc;

	if (!p || p->pid <= 0)
		return 0;
	pht_proc_kill(p, SIGTERM);
	rc = wait_exited(p->pid, timeout_ms);
	if (rc == -ETIMEDOUT) {
		killed = 1;
		pht_proc_kill(p, SIGKILL);
		rc = wait_exited(p->pid, 5000);
	}
	if (rc == -ECHILD) {
		p->pid = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	/* inv. 2: the leader is a zombie; finish off anything left in its group. */
	kill(-p->pid, SIGKILL);
	rc = reap(p, NULL);
	return rc < 0 ? rc : killed;
}

int pht_proc_alive(const struct pht_proc *p)
{
	if (!p || p->pid <= 0)
		return 0;
	return exited(p->pid) == 0;
}

int pht_run(const char *const argv[], int timeout_ms, char *out, size_t cap, int *exit_code)
{
	struct pht_proc p = { 0 };
	long long deadline = pht_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	size_t len = 0;
	int pfd[2], rc, st = 0, done = 0;
	char junk[4096];

	if (out && cap)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -errno;
	rc = spawn(argv, pfd[1], &p.pid);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return rc;
	}
	/* Read until EOF; stop early when the child is gone and the pipe is quiet
	 * (a grandchild may hold the pipe open). */
	while (!done) {
		long long left = deadline - pht_now_ms();
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		if (left <= 0)
			break;
		int n = poll(&pf, 1, left < 50 ? (int)left : 50);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			char *dst = junk;
			size_t room = sizeof junk;
			if (out && cap > len + 1) {
				dst = out + len;
				room = cap - 1 - len;
			}
			ssize_t r = read(pfd[0], dst, room);
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				break;
			if (r == 0)
				done = 1;
			if (r > 0 && dst != junk) {
				len += (size_t)r;
				out[len] = '\0';
			}
		} else if (n == 0 && exited(p.pid) != 0) {
			done = 1;
		}
	}
	/* The child may have written just before it exited, after the last
	 * poll: take what the pipe still holds (never blocking). */
	while (out && cap > len + 1) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		if (poll(&pf, 1, 0) <= 0)
			break;
		ssize_t r = read(pfd[0], out + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		out[len] = '\0';
	}
	close(pfd[0]);
	rc = wait_exited(p.pid, (int)(deadline - pht_now_ms()));
	if (rc == -ETIMEDOUT) {
		pht_proc_kill(&p, SIGKILL);
		if (wait_exited(p.pid, 5000) != 0)
			return -ETIMEDOUT; /* unkillable (D state): leave it, never block */
	}
	kill(-p.pid, SIGKILL); /* leftovers in the group; leader is a zombie */
	if (reap(&p, &st) != 0 && rc == 0)
		rc = -ECHILD;
	if (rc != 0)
		return rc;
	if (exit_code)
		*exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
