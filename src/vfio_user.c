/*
 * vfio_user.c: the vfio-user client (include/memspace/vfio_user.h).
 *
 * Concurrency. One stream socket carries messages both ways. One thread at
 * a time reads it (the one that set dev->reading, under dev->lock): it
 * takes a message whole (rx_one: header, then body, with the fds that came
 * with the header) and
 *   - hands a reply to the waiter registered under its message id (the
 *     waiter list, dev->lock); a reply nobody waits for is a protocol error;
 *   - serves a DMA_READ / DMA_WRITE command itself, with ms_as_read() /
 *     ms_as_write() on dev->dma_as, and sends the reply.
 * Any thread may send a request (vfu_request): it waits until no other
 * request is in flight (dev->busy), registers a waiter, sends the whole
 * message under dev->send_lock (so messages never interleave), then reads
 * the socket itself until its reply is in, the connection died, or the
 * timeout passed (or, while another thread reads, waits on dev->cond).
 * Reading its own reply saves a hand-off through a third thread: on a
 * loaded machine each wake-up of a thread costs a scheduling delay, and a
 * round trip through the receive thread took three of them instead of two.
 * The receive thread (rx_main) reads when nobody else does: it polls the
 * socket, and takes the reading side only if data is still there once it
 * is free, so it serves the server's commands between requests and notices
 * a server that goes away. Requests are serialised because a server may
 * handle one of them by sending DMA_READ / DMA_WRITE and expect the reply to
 * that before any other command of ours (libvfio-user does: another command
 * arriving then fails the request being handled). DMA replies do not wait
 * for dev->busy. A thread never makes a request while it serves DMA: one
 * made then (an access to a vfio-user region from DMA served on the receive
 * thread, or on a requester waiting for its reply) fails with -EDEADLK.
 *
 * Death. Whatever breaks the connection (EOF, a read or send error, a
 * malformed message, a reply that never came) goes through vfu_kill(): the
 * first cause is kept in dev->dead, the socket is shut down (which also
 * wakes the thread reading it), and every waiter is woken. Later requests
 * fail at once with that error. Sends and reads have a timeout (SO_SNDTIMEO,
 * SO_RCVTIMEO) too, so a server that stops reading, or stops in the middle
 * of a message, cannot block a thread for ever.
 *
 * Locks: dev->send_lock and dev->lock are never held together; no memspace
 * call is made under either (accesses to dma_as happen without them).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <memspace/access.h>
#include <memspace/backend.h>
#include <memspace/iommu.h>

#include "vfio_user.h"

#define DEFAULT_TIMEOUT_MS 5000u

typedef struct vfu_wait {
	struct vfu_wait *next;
	uint16_t id;
	bool done;
	uint8_t *msg;
	size_t len;
	int fds[MS__VFU_MAX_FDS];
	unsigned nfds;
} vfu_wait;

typedef struct vfu_map {
	uint64_t iova;
	uint64_t size;
	bool writable;
	bool from_iommu; /* made by the IOMMU notifier, removed by it */
	/* From the IOMMU: where iova goes, to map what is left of a split mapping. */
	ms_as *target_as;
	uint64_t translated;
} vfu_map;

typedef struct vfu_mmap {
	void *ptr;
	size_t len;
} vfu_mmap;

/* One interrupt vector: its eventfd and where it is delivered. */
typedef struct vfu_irq {
	int efd;
	uint32_t index;
	uint32_t vector;
	ms_vfio_user_irq_fn fn;
	void *opaque;
} vfu_irq;

/* The opaque of one I/O region. */
typedef struct vfu_bar {
	struct vfu_bar *next;
	ms_vfio_user *dev;
	uint32_t index;
} vfu_bar;

struct ms_vfio_user {
	ms_ctx *ctx;
	ms_as *dma_as;
	unsigned timeout_ms;
	int fd;
	pthread_t rx;
	bool rx_started;
	pthread_mutex_t send_lock;
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t cond;
	pthread_cond_t rx_cond; /* the receive thread's naps (vfu_kill() ends them) */
	uint16_t next_id;
	bool busy;             /* a request is in flight */
	pthread_t busy_thread; /* the thread that made it */
	bool reading;          /* a thread reads the socket (rx_one()) */
	int dead;              /* 0 while the connection works, else why it died */
	vfu_wait *waits;
	vfu_map *maps;
	size_t nr_maps, cap_maps;
	vfu_mmap *mmaps;
	size_t nr_mmaps, cap_mmaps;
	vfu_bar *bars;
	ms_vfio_user_info info;
	ms_iommu_notifier *notifier; /* ms_vfio_user_attach_iommu() */
	/*
	 * Interrupts (under dev->lock): the IRQ thread polls ctl_efd and every
	 * vector's eventfd. A change bumps irq_gen and writes ctl_efd; the
	 * thread re-reads the set and records irq_seen; the changer waits for
	 * that before closing the eventfds it removed, so no callback of a
	 * removed vector runs after ms_vfio_user_set_irqs() returns.
	 */
	vfu_irq *irqs;
	size_t nr_irqs;
	int ctl_efd;
	pthread_t irq_thread;
	bool irq_started, irq_stop;
	uint64_t irq_gen, irq_seen;
};

static void irq_thread_stop(ms_vfio_user *dev);

static void close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void vfu_kill(ms_vfio_user *dev, int err)
{
	pthread_mutex_lock(&dev->lock);
	if (!dev->dead) {
		dev->dead = err;
		shutdown(dev->fd, SHUT_RDWR);
	}
	pthread_cond_broadcast(&dev->cond);
	pthread_cond_broadcast(&dev->rx_cond);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- sending ---- */

/* Send @iov whole, the fds with the first bytes. 0 or a negative errno. */
static int send_all(int fd, struct iovec *iov, int iovcnt, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MS__VFU_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};

	if (nfds) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (mh.msg_iovlen) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -ECONNRESET;
		}
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Send one message: header, then @a (@alen bytes), then @b (@blen). */
static int vfu_send(ms_vfio_user *dev, const ms__vfio_user_hdr *h, const void *a, size_t alen,
		    const void *b, size_t blen, const int *fds, unsigned nfds)
{
	uint8_t hb[MS__VFU_HDR_LEN];
	struct iovec iov[3];
	int n = 0, ret;

	ms__vfio_user_hdr_encode(hb, h);
	iov[n++] = (struct iovec){hb, sizeof(hb)};
	if (alen)
		iov[n++] = (struct iovec){(void *)a, alen};
	if (blen)
		iov[n++] = (struct iovec){(void *)b, blen};
	pthread_mutex_lock(&dev->send_lock);
	ret = send_all(dev->fd, iov, n, fds, nfds);
	pthread_mutex_unlock(&dev->send_lock);
	if (ret < 0)
		vfu_kill(dev, ret);
	return ret;
}

/* Add @ms milliseconds to the time in @t. */
static void add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int rx_one(ms_vfio_user *dev);

/*
 * Wait until @fd has something to read or hangs up (1), or until
 * @deadline (0). Never fails otherwise: poll() errors count as readable,
 * and the read that follows reports them.
 */
static int wait_readable(int fd, const struct timespec *deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		struct timespec now;
		long long ms;
		int n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
		     (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms < 0)
			return 0;
		n = poll(&pfd, 1, ms > 60000 ? 60000 : (int)ms + 1);
		if (n > 0 || (n < 0 && errno != EINTR))
			return 1;
	}
}

static void wait_release(vfu_wait *w)
{
	free(w->msg);
	w->msg = NULL;
	close_fds(w->fds, w->nfds);
	w->nfds = 0;
}

/*
 * One request and its reply: 0 and the reply's payload in *@payload,
 * *@plen (valid until wait_release(@w)), the fds it carried in @w; or a
 * negative errno (the server's error for an error reply).
 */
static int vfu_request(ms_vfio_user *dev, uint16_t cmd, const void *a, size_t alen, const void *b,
		       size_t blen, const int *fds, unsigned nfds, vfu_wait *w,
		       const uint8_t **payload, size_t *plen)
{
	ms__vfio_user_hdr h;
	struct timespec deadline;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	if (dev->rx_started && pthread_equal(pthread_self(), dev->rx))
		return -EDEADLK;
	if (MS__VFU_HDR_LEN + alen + blen > MS__VFU_MAX_MSG)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	add_ms(&deadline, dev->timeout_ms);

	pthread_mutex_lock(&dev->lock);
	if (dev->busy && pthread_equal(pthread_self(), dev->busy_thread)) {
		/* From DMA this thread serves while it waits for its reply. */
		pthread_mutex_unlock(&dev->lock);
		return -EDEADLK;
	}
	/* One request in flight at a time (see the top of this file). */
	while (dev->busy && !dev->dead && ret == 0)
		ret = pthread_cond_timedwait(&dev->cond, &dev->lock, &deadline);
	if (dev->dead || ret) {
		ret = dev->dead ? dev->dead : -ETIMEDOUT;
		pthread_mutex_unlock(&dev->lock);
		return ret;
	}
	dev->busy = true;
	dev->busy_thread = pthread_self();
	w->id = dev->next_id++;
	w->next = dev->waits;
	dev->waits = w;
	pthread_mutex_unlock(&dev->lock);

	h = (ms__vfio_user_hdr){.id = w->id,
				.cmd = cmd,
				.size = (uint32_t)(MS__VFU_HDR_LEN + alen + blen),
				.flags = MS__VFU_TYPE_COMMAND};
	vfu_send(dev, &h, a, alen, b, blen, fds, nfds);

	pthread_mutex_lock(&dev->lock);
	while (!w->done && !dev->dead && ret == 0) {
		int rr;

		if (dev->reading) {
			ret = pthread_cond_timedwait(&dev->cond, &dev->lock, &deadline);
			continue;
		}
		/* Read the reply here rather than be handed it by the receive thread. */
		dev->reading = true;
		pthread_mutex_unlock(&dev->lock);
		rr = wait_readable(dev->fd, &deadline) ? rx_one(dev) : -ETIMEDOUT;
		pthread_mutex_lock(&dev->lock);
		dev->reading = false;
		pthread_cond_broadcast(&dev->cond);
		if (rr == -ETIMEDOUT && !w->done) {
			ret = ETIMEDOUT; /* the kill follows below */
		} else if (rr < 0 && !dev->dead) {
			pthread_mutex_unlock(&dev->lock);
			vfu_kill(dev, rr);
			pthread_mutex_lock(&dev->lock);
		}
	}
	for (vfu_wait **pp = &dev->waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (w->done)
		ret = 0;
	else if (dev->dead)
		ret = dev->dead;
	else
		ret = -ETIMEDOUT;
	dev->busy = false;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	if (ret == -ETIMEDOUT && !w->done) {
		/* A late reply could be taken for another one: give up the link. */
		vfu_kill(dev, -ETIMEDOUT);
		return -ETIMEDOUT;
	}
	if (ret < 0)
		return ret;
	ret = ms__vfio_user_check_reply(w->msg, w->len, w->id, cmd, payload, plen);
	if (ret == -EPROTO)
		vfu_kill(dev, -EPROTO);
	if (ret < 0)
		wait_release(w);
	return ret;
}

/* ---- receiving ---- */

/* Read exactly @len bytes; with @fds, take the fds that come with them. */
static int recv_all(int fd, uint8_t *buf, size_t len, int *fds, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MS__VFU_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = {buf + got, len - got};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (fds) {
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
		}
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT; /* SO_RCVTIMEO: the server stopped mid-message */
		if (n <= 0)
			return -ECONNRESET;
		if (fds) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				size_t k;
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
					continue;
				k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int f;
					memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					if (*nfds < MS__VFU_MAX_FDS)
						fds[(*nfds)++] = f;
					else
						close(f);
				}
			}
			if (mh.msg_flags & MSG_CTRUNC)
				return -EPROTO;
		}
		got += (size_t)n;
	}
	return 0;
}

static bool dma_allowed(ms_vfio_user *dev, uint64_t addr, uint64_t count, bool is_write)
{
	bool ok = false;

	pthread_mutex_lock(&dev->lock);
	for (size_t i = 0; i < dev->nr_maps; i++) {
		const vfu_map *m = &dev->maps[i];
		if (addr >= m->iova && addr - m->iova < m->size &&
		    count <= m->size - (addr - m->iova)) {
			ok = !is_write || m->writable;
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return ok;
}

/* Serve a command of the server (DMA_READ / DMA_WRITE); 0 or why to die. */
static int serve(ms_vfio_user *dev, const ms__vfio_user_hdr *h, const uint8_t *p, size_t plen)
{
	ms__vfio_user_hdr r = {.id = h->id, .cmd = h->cmd, .flags = MS__VFU_TYPE_REPLY};
	uint8_t head[MS__VFU_DMA_ACCESS_LEN];
	const uint8_t *data = NULL;
	size_t dlen = 0;
	uint8_t *buf = NULL;
	int err = 0;

	if (h->cmd == MS__VFU_CMD_DMA_READ || h->cmd == MS__VFU_CMD_DMA_WRITE) {
		bool is_write = h->cmd == MS__VFU_CMD_DMA_WRITE;
		uint64_t addr, count;

		if (plen < MS__VFU_DMA_ACCESS_LEN)
			return -EPROTO;
		addr = ms__vfio_user_get(p, 8);
		count = ms__vfio_user_get(p + 8, 8);
		if (is_write ? plen - MS__VFU_DMA_ACCESS_LEN != count
			     : plen != MS__VFU_DMA_ACCESS_LEN)
			return -EPROTO;
		memcpy(head, p, sizeof(head));
		if (count == 0 || count > MS__VFU_MAX_XFER || addr + count < addr) {
			err = EINVAL;
		} else if (!dev->dma_as || !dma_allowed(dev, addr, count, is_write)) {
			err = EFAULT;
		} else if (is_write) {
			if (ms_as_write(dev->dma_as, addr, MS_ATTRS_UNSPECIFIED,
					p + MS__VFU_DMA_ACCESS_LEN, count) != MS_RESULT_OK)
				err = EIO;
			/* The reply echoes address and count, without data. */
			ms__vfio_user_put(head + 8, count, 8);
		} else {
			buf = malloc(count);
			if (!buf)
				err = ENOMEM;
			else if (ms_as_read(dev->dma_as, addr, MS_ATTRS_UNSPECIFIED, buf, count) !=
				 MS_RESULT_OK)
				err = EIO;
			data = buf;
			dlen = count;
		}
	} else {
		err = ENOSYS;
	}
	if (h->flags & MS__VFU_F_NO_REPLY) {
		free(buf);
		return 0;
	}
	if (err) {
		r.flags |= MS__VFU_F_ERROR;
		r.error = (uint32_t)err;
		r.size = MS__VFU_HDR_LEN;
		vfu_send(dev, &r, NULL, 0, NULL, 0, NULL, 0);
	} else {
		r.size = (uint32_t)(MS__VFU_HDR_LEN + sizeof(head) + dlen);
		vfu_send(dev, &r, head, sizeof(head), data, dlen, NULL, 0);
	}
	free(buf);
	return 0;
}

/*
 * Read one whole message and act on it: hand a reply to its waiter, serve a
 * command. Called by the thread holding dev->reading, without dev->lock.
 * Return: 0, or why the connection must die.
 */
static int rx_one(ms_vfio_user *dev)
{
	uint8_t hb[MS__VFU_HDR_LEN];
	int fds[MS__VFU_MAX_FDS];
	unsigned nfds = 0;
	ms__vfio_user_hdr h;
	uint8_t *msg;
	int ret;

	ret = recv_all(dev->fd, hb, sizeof(hb), fds, &nfds);
	if (ret == 0)
		ret = ms__vfio_user_hdr_decode(hb, sizeof(hb), &h);
	if (ret < 0) {
		close_fds(fds, nfds);
		return ret;
	}
	msg = malloc(h.size);
	if (!msg) {
		close_fds(fds, nfds);
		return -ENOMEM;
	}
	memcpy(msg, hb, sizeof(hb));
	ret = recv_all(dev->fd, msg + MS__VFU_HDR_LEN, h.size - MS__VFU_HDR_LEN, NULL, NULL);
	if (ret == 0 && (h.flags & MS__VFU_TYPE_MASK) == MS__VFU_TYPE_REPLY) {
		vfu_wait *w;
		pthread_mutex_lock(&dev->lock);
		for (w = dev->waits; w && (w->id != h.id || w->done); w = w->next)
			;
		if (w) {
			w->msg = msg;
			w->len = h.size;
			memcpy(w->fds, fds, sizeof(int) * nfds);
			w->nfds = nfds;
			w->done = true;
			msg = NULL;
			nfds = 0;
			pthread_cond_broadcast(&dev->cond);
		} else {
			ret = -EPROTO; /* a reply to nothing we asked */
		}
		pthread_mutex_unlock(&dev->lock);
	} else if (ret == 0) {
		close_fds(fds, nfds); /* no command of the server carries fds */
		nfds = 0;
		ret = serve(dev, &h, msg + MS__VFU_HDR_LEN, h.size - MS__VFU_HDR_LEN);
	}
	free(msg);
	close_fds(fds, nfds);
	return ret;
}

/*
 * The receive thread reads what arrives between requests: the server's
 * commands (DMA it starts on its own) and the end of the connection. While
 * a request is in flight its requester reads, and the receive thread naps
 * (RX_NAP_MS at a time) instead of polling: a thread that polled would be
 * woken by every reply, and on a loaded machine that wake-up competes with
 * the requester's. So a command the server sends between requests waits at
 * most one nap.
 */
#define RX_NAP_MS 1u

static void *rx_main(void *arg)
{
	ms_vfio_user *dev = arg;
	struct pollfd pfd = {.fd = dev->fd, .events = POLLIN};

	for (;;) {
		int ret;

		pthread_mutex_lock(&dev->lock);
		while (dev->busy && !dev->dead) {
			struct timespec nap;

			clock_gettime(CLOCK_MONOTONIC, &nap);
			add_ms(&nap, RX_NAP_MS);
			pthread_cond_timedwait(&dev->rx_cond, &dev->lock, &nap);
		}
		pthread_mutex_unlock(&dev->lock);
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&dev->lock);
		if (dev->busy && !dev->dead) {
			/* Most likely the reply its requester reads: leave it. */
			pthread_mutex_unlock(&dev->lock);
			continue;
		}
		while (dev->reading && !dev->dead)
			pthread_cond_wait(&dev->cond, &dev->lock);
		if (dev->dead) {
			pthread_mutex_unlock(&dev->lock);
			break;
		}
		/* A requester may have read it meanwhile. */
		if (poll(&pfd, 1, 0) == 0) {
			pthread_mutex_unlock(&dev->lock);
			continue;
		}
		dev->reading = true;
		pthread_mutex_unlock(&dev->lock);
		ret = rx_one(dev);
		pthread_mutex_lock(&dev->lock);
		dev->reading = false;
		pthread_cond_broadcast(&dev->cond);
		pthread_mutex_unlock(&dev->lock);
		if (ret < 0) {
			vfu_kill(dev, ret);
			break;
		}
	}
	return NULL;
}

/* ---- connection ---- */

int ms_vfio_user_connect(ms_vfio_user **out, ms_ctx *ctx, const ms_vfio_user_opts *opts)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t vbuf[256];
	const uint8_t *p;
	size_t plen;
	pthread_condattr_t ca;
	struct timeval tv;
	ms_vfio_user *dev;
	vfu_wait w;
	int ret, vlen;

	if (out)
		*out = NULL;
	if (!out || !ctx || !opts || !opts->socket)
		return -EINVAL;
	if (strlen(opts->socket) == 0 || strlen(opts->socket) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, opts->socket, strlen(opts->socket) + 1);

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ctx = ctx;
	dev->dma_as = opts->dma_as;
	dev->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	dev->next_id = 1;
	dev->ctl_efd = -1;
	pthread_mutex_init(&dev->send_lock, NULL);
	pthread_mutex_init(&dev->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->cond, &ca);
	pthread_cond_init(&dev->rx_cond, &ca);
	pthread_condattr_destroy(&ca);

	dev->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dev->fd < 0) {
		ret = -errno;
		goto fail;
	}
	tv.tv_sec = dev->timeout_ms / 1000;
	tv.tv_usec = (long)(dev->timeout_ms % 1000) * 1000;
	setsockopt(dev->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(dev->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(dev->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto fail;
	}
	if (pthread_create(&dev->rx, NULL, rx_main, dev) != 0) {
		ret = -ENOMEM;
		goto fail;
	}
	dev->rx_started = true;

	vlen = ms__vfio_user_version_encode(vbuf, sizeof(vbuf));
	ret = vfu_request(dev, MS__VFU_CMD_VERSION, vbuf, (size_t)vlen, NULL, 0, NULL, 0, &w, &p,
			  &plen);
	if (ret < 0)
		goto fail;
	ret = ms__vfio_user_version_decode(p, plen, &dev->info);
	wait_release(&w);
	if (ret < 0)
		goto fail;
	if (dev->info.max_data_xfer_size > MS__VFU_MAX_XFER)
		dev->info.max_data_xfer_size = MS__VFU_MAX_XFER;

	{
		uint8_t req[MS__VFU_DEVICE_INFO_LEN] = {0};
		ms__vfio_user_put(req, sizeof(req), 4);
		ret = vfu_request(dev, MS__VFU_CMD_DEVICE_GET_INFO, req, sizeof(req), NULL, 0, NULL,
				  0, &w, &p, &plen);
		if (ret < 0)
			goto fail;
		ret = ms__vfio_user_device_info_decode(p, plen, &dev->info);
		wait_release(&w);
		if (ret < 0)
			goto fail;
	}
	*out = dev;
	return 0;
fail:
	if (ret == -EPROTO || ret == -ETIMEDOUT)
		vfu_kill(dev, ret);
	dev->nr_maps = 0;
	ms_vfio_user_close(dev);
	return ret;
}

/*
 * End the connection but keep what the regions use: the socket is shut down
 * (not closed, so a sender racing with this writes to a dead socket, never
 * to a reused fd number) and the mmapped areas stay until close.
 */
static void disconnect(ms_vfio_user *dev)
{
	ms_iommu_unregister_notifier(dev->notifier);
	dev->notifier = NULL;
	irq_thread_stop(dev);
	/* Tell a live server the mappings are gone, newest first. */
	while (dev->nr_maps && dev->fd >= 0) {
		vfu_map m = dev->maps[dev->nr_maps - 1];
		if (ms_vfio_user_dma_unmap(dev, m.iova, m.size) < 0)
			break;
	}
	if (dev->fd >= 0)
		vfu_kill(dev, -ECONNRESET);
	if (dev->rx_started)
		pthread_join(dev->rx, NULL);
	dev->rx_started = false;
}

int ms_vfio_user_disconnect(ms_vfio_user *dev)
{
	if (!dev)
		return -EINVAL;
	disconnect(dev);
	return 0;
}

void ms_vfio_user_close(ms_vfio_user *dev)
{
	if (!dev)
		return;
	disconnect(dev);
	if (dev->fd >= 0)
		close(dev->fd);
	for (size_t i = 0; i < dev->nr_mmaps; i++)
		munmap(dev->mmaps[i].ptr, dev->mmaps[i].len);
	while (dev->bars) {
		vfu_bar *b = dev->bars;
		dev->bars = b->next;
		free(b);
	}
	free(dev->mmaps);
	free(dev->maps);
	pthread_cond_destroy(&dev->cond);
	pthread_cond_destroy(&dev->rx_cond);
	pthread_mutex_destroy(&dev->lock);
	pthread_mutex_destroy(&dev->send_lock);
	free(dev);
}

int ms_vfio_user_get_info(ms_vfio_user *dev, ms_vfio_user_info *info)
{
	if (!dev || !info)
		return -EINVAL;
	*info = dev->info;
	return 0;
}

/* ---- regions ---- */

static int region_info(ms_vfio_user *dev, uint32_t index, ms_vfio_user_region_info *info, int *fd,
		       uint64_t *file_offset)
{
	/* Room for capabilities: header, 16 areas and slack. */
	uint8_t req[MS__VFU_REGION_INFO_LEN] = {0};
	uint64_t foff = 0;
	const uint8_t *p;
	size_t plen;
	vfu_wait w;
	int ret;

	if (!dev || !info || index >= dev->info.num_regions)
		return -EINVAL;
	ms__vfio_user_put(req, 512, 4); /* argsz: how much we accept */
	ms__vfio_user_put(req + 8, index, 4);
	ret = vfu_request(dev, MS__VFU_CMD_DEVICE_GET_REGION_INFO, req, sizeof(req), NULL, 0, NULL,
			  0, &w, &p, &plen);
	if (ret < 0)
		return ret;
	ret = ms__vfio_user_region_info_decode(p, plen, index, w.nfds, info, &foff);
	if (ret == 0 && fd && info->mmappable) {
		*fd = w.fds[0];
		w.fds[0] = -1;
	}
	if (file_offset)
		*file_offset = foff;
	wait_release(&w);
	if (ret == -EPROTO)
		vfu_kill(dev, ret);
	return ret;
}

int ms_vfio_user_get_region_info(ms_vfio_user *dev, uint32_t index, ms_vfio_user_region_info *info)
{
	return region_info(dev, index, info, NULL, NULL);
}

int ms_vfio_user_get_irq_info(ms_vfio_user *dev, uint32_t index, uint32_t *count, uint32_t *flags)
{
	uint8_t req[MS__VFU_IRQ_INFO_LEN] = {0};
	const uint8_t *p;
	size_t plen;
	vfu_wait w;
	int ret;

	if (!dev || !count || index >= dev->info.num_irqs)
		return -EINVAL;
	ms__vfio_user_put(req, sizeof(req), 4);
	ms__vfio_user_put(req + 8, index, 4);
	ret = vfu_request(dev, MS__VFU_CMD_DEVICE_GET_IRQ_INFO, req, sizeof(req), NULL, 0, NULL, 0,
			  &w, &p, &plen);
	if (ret < 0)
		return ret;
	ret = ms__vfio_user_irq_info_decode(p, plen, index, count, flags);
	wait_release(&w);
	if (ret == -EPROTO)
		vfu_kill(dev, ret);
	return ret;
}

int ms_vfio_user_region_rw(ms_vfio_user *dev, uint32_t index, uint64_t offset, void *buf,
			   size_t len, bool is_write)
{
	uint8_t req[MS__VFU_REGION_ACCESS_LEN];
	const uint8_t *p, *data;
	size_t plen;
	vfu_wait w;
	int ret;

	if (!dev || !buf || len == 0 || len > dev->info.max_data_xfer_size || offset + len < offset)
		return -EINVAL;
	ms__vfio_user_put(req, offset, 8);
	ms__vfio_user_put(req + 8, index, 4);
	ms__vfio_user_put(req + 12, len, 4);
	if (is_write) {
		ret = vfu_request(dev, MS__VFU_CMD_REGION_WRITE, req, sizeof(req), buf, len, NULL,
				  0, &w, &p, &plen);
		if (ret < 0)
			return ret;
		/* The reply echoes offset, region and count. */
		if (plen < MS__VFU_REGION_ACCESS_LEN || ms__vfio_user_get(p, 8) != offset ||
		    ms__vfio_user_get(p + 8, 4) != index)
			ret = -EPROTO;
	} else {
		ret = vfu_request(dev, MS__VFU_CMD_REGION_READ, req, sizeof(req), NULL, 0, NULL, 0,
				  &w, &p, &plen);
		if (ret < 0)
			return ret;
		ret = ms__vfio_user_region_read_decode(p, plen, index, offset, (uint32_t)len,
						       &data);
		if (ret == 0)
			memcpy(buf, data, len);
	}
	wait_release(&w);
	if (ret == -EPROTO)
		vfu_kill(dev, ret);
	return ret;
}

static ms_result bar_read(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
			  void *opaque)
{
	vfu_bar *b = opaque;
	uint8_t v[8] = {0};

	(void)attrs;
	if (ms_vfio_user_region_rw(b->dev, b->index, addr, v, size, false) < 0) {
		*data = 0;
		return MS_RESULT_ERROR;
	}
	*data = ms__vfio_user_get(v, size);
	return MS_RESULT_OK;
}

static ms_result bar_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
			   void *opaque)
{
	vfu_bar *b = opaque;
	uint8_t v[8];

	(void)attrs;
	ms__vfio_user_put(v, data, size);
	if (ms_vfio_user_region_rw(b->dev, b->index, addr, v, size, true) < 0)
		return MS_RESULT_ERROR;
	return MS_RESULT_OK;
}

static const ms_region_ops bar_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read_with_attrs = bar_read,
	.write_with_attrs = bar_write,
	.endianness = MS_ENDIAN_LITTLE,
	.valid = {.min_access_size = 1, .max_access_size = 8, .unaligned = true},
	.impl = {.min_access_size = 1, .max_access_size = 8, .unaligned = true},
};

static int keep_mmap(ms_vfio_user *dev, void *ptr, size_t len)
{
	if (dev->nr_mmaps == dev->cap_mmaps) {
		size_t cap = dev->cap_mmaps ? 2 * dev->cap_mmaps : 8;
		vfu_mmap *m = realloc(dev->mmaps, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		dev->mmaps = m;
		dev->cap_mmaps = cap;
	}
	dev->mmaps[dev->nr_mmaps++] = (vfu_mmap){ptr, len};
	return 0;
}

int ms_vfio_user_region(ms_region **out, ms_vfio_user *dev, uint32_t index, const char *name)
{
	ms_vfio_user_region_info info;
	ms_region *c = NULL, *io = NULL;
	uint64_t foff = 0;
	vfu_bar *b;
	int fd = -1, ret;

	if (out)
		*out = NULL;
	if (!out || !dev || !name)
		return -EINVAL;
	ret = region_info(dev, index, &info, &fd, &foff);
	if (ret < 0)
		return ret;
	if (info.size == 0) {
		ret = -EINVAL;
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	b->dev = dev;
	b->index = index;
	pthread_mutex_lock(&dev->lock);
	b->next = dev->bars;
	dev->bars = b;
	pthread_mutex_unlock(&dev->lock);

	ret = ms_region_new_container(&c, dev->ctx, name, info.size);
	if (ret < 0)
		goto out;
	ret = ms_region_new_io(
		&io, dev->ctx,
		&(ms_region_io_opts){
			.name = name, .size = info.size, .ops = &bar_ops, .opaque = b});
	if (ret < 0)
		goto out;
	ret = ms_region_add_subregion(c, 0, io);
	ms_region_unref(io);
	if (ret < 0)
		goto out;
	for (uint32_t i = 0; fd >= 0 && i < info.nr_areas; i++) {
		int prot = PROT_READ | (info.flags & MS_VFIO_USER_REGION_WRITE ? PROT_WRITE : 0);
		ms_region *ram = NULL;
		void *ptr;

		if (foff + info.areas[i].offset < foff) {
			ret = -EINVAL;
			goto out;
		}
		ptr = mmap(NULL, info.areas[i].size, prot, MAP_SHARED, fd,
			   (off_t)(foff + info.areas[i].offset));
		if (ptr == MAP_FAILED) {
			ret = -errno;
			goto out;
		}
		if (keep_mmap(dev, ptr, info.areas[i].size) < 0) {
			munmap(ptr, info.areas[i].size);
			ret = -ENOMEM;
			goto out;
		}
		ret = ms_region_new_ram_device(&ram, dev->ctx, name, info.areas[i].size, ptr);
		if (ret < 0)
			goto out;
		ret = ms_region_add_subregion_overlap(c, info.areas[i].offset, ram, 1);
		ms_region_unref(ram);
		if (ret < 0)
			goto out;
	}
	*out = c;
	c = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (c)
		ms_region_unref(c);
	return ret;
}

/* ---- DMA ---- */

/* DMA_MAP of [@iova, +@size) with @fd (or -1) at @foff; recorded in dev->maps. */
static int dma_map_raw(ms_vfio_user *dev, uint64_t iova, uint64_t size, int fd, uint64_t foff,
		       bool writable, bool from_iommu, ms_as *target_as, uint64_t translated)
{
	uint8_t req[MS__VFU_DMA_MAP_LEN];
	const uint8_t *p;
	size_t plen;
	vfu_wait w;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	for (size_t i = 0; i < dev->nr_maps; i++) {
		const vfu_map *m = &dev->maps[i];
		if (iova <= m->iova + (m->size - 1) && m->iova <= iova + (size - 1))
			ret = -EEXIST;
	}
	if (ret == 0 && dev->nr_maps == dev->cap_maps) {
		size_t cap = dev->cap_maps ? 2 * dev->cap_maps : 16;
		vfu_map *m = realloc(dev->maps, cap * sizeof(*m));
		if (!m) {
			ret = -ENOMEM;
		} else {
			dev->maps = m;
			dev->cap_maps = cap;
		}
	}
	/* Recorded first: the server may start DMA before its reply arrives. */
	if (ret == 0)
		dev->maps[dev->nr_maps++] =
			(vfu_map){iova, size, writable, from_iommu, target_as, translated};
	pthread_mutex_unlock(&dev->lock);
	if (ret < 0)
		return ret;

	ms__vfio_user_put(req, sizeof(req), 4);
	ms__vfio_user_put(req + 4, 0x1u | (writable ? 0x2u : 0), 4);
	ms__vfio_user_put(req + 8, foff, 8);
	ms__vfio_user_put(req + 16, iova, 8);
	ms__vfio_user_put(req + 24, size, 8);
	ret = vfu_request(dev, MS__VFU_CMD_DMA_MAP, req, sizeof(req), NULL, 0, fd >= 0 ? &fd : NULL,
			  fd >= 0 ? 1 : 0, &w, &p, &plen);
	if (ret == 0)
		wait_release(&w);
	if (ret < 0) {
		pthread_mutex_lock(&dev->lock);
		for (size_t i = 0; i < dev->nr_maps; i++) {
			if (dev->maps[i].iova == iova && dev->maps[i].size == size) {
				dev->maps[i] = dev->maps[--dev->nr_maps];
				break;
			}
		}
		pthread_mutex_unlock(&dev->lock);
	}
	return ret;
}

int ms_vfio_user_dma_map(ms_vfio_user *dev, uint64_t iova, uint64_t size, ms_region *ram,
			 uint64_t offset, bool writable)
{
	ms_ram_info ri;
	int fd = -1, ret;
	uint64_t foff = 0;

	if (!dev || size == 0 || iova + (size - 1) < iova)
		return -EINVAL;
	if (ram) {
		ret = ms_region_ram_info(ram, &ri);
		if (ret < 0)
			return ret;
		if (offset > ri.size || size > ri.size - offset)
			return -EINVAL;
		if (ri.fd >= 0 && ri.shared && ri.host) {
			fd = ri.fd;
			foff = ri.fd_offset + offset;
		}
	}
	return dma_map_raw(dev, iova, size, fd, foff, writable, false, NULL, 0);
}

int ms_vfio_user_dma_unmap(ms_vfio_user *dev, uint64_t iova, uint64_t size)
{
	uint8_t req[MS__VFU_DMA_UNMAP_LEN];
	const uint8_t *p;
	size_t plen, i;
	vfu_wait w;
	int ret;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < dev->nr_maps; i++)
		if (dev->maps[i].iova == iova && dev->maps[i].size == size)
			break;
	if (i == dev->nr_maps) {
		pthread_mutex_unlock(&dev->lock);
		return -ENOENT;
	}
	pthread_mutex_unlock(&dev->lock);

	ms__vfio_user_put(req, sizeof(req), 4);
	ms__vfio_user_put(req + 4, 0, 4);
	ms__vfio_user_put(req + 8, iova, 8);
	ms__vfio_user_put(req + 16, size, 8);
	ret = vfu_request(dev, MS__VFU_CMD_DMA_UNMAP, req, sizeof(req), NULL, 0, NULL, 0, &w, &p,
			  &plen);
	if (ret == 0)
		wait_release(&w);
	/* Refused by a live server: the mapping stays. Otherwise it is gone. */
	if (ret < 0 && ret != -EPROTO && ret != -ETIMEDOUT && ret != -ECONNRESET)
		return ret;
	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < dev->nr_maps; i++) {
		if (dev->maps[i].iova == iova && dev->maps[i].size == size) {
			dev->maps[i] = dev->maps[--dev->nr_maps];
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* Whether vectors [@start, @start + @count) exist in interrupt @index of @dev:
 * 0, -EINVAL (out of range or wrapping) or what asking the device returned. */
static int check_irq_range(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count)
{
	uint32_t irq_count;
	int ret;

	if (start + count < start)
		return -EINVAL;
	ret = ms_vfio_user_get_irq_info(dev, index, &irq_count, NULL);
	if (ret < 0)
		return ret;
	if (start > irq_count || count > irq_count - start)
		return -EINVAL;
	return 0;
}

int ms_vfio_user_mask_irqs(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count,
			   bool mask)
{
	uint8_t req[20];
	const uint8_t *p;
	size_t plen;
	vfu_wait w;
	int ret;

	if (!dev || count == 0)
		return -EINVAL;
	ret = check_irq_range(dev, index, start, count);
	if (ret < 0)
		return ret;
	ms__vfio_user_put(req, sizeof(req), 4);
	/* DATA_NONE, ACTION_MASK or ACTION_UNMASK. */
	ms__vfio_user_put(req + 4, 0x1u | (mask ? 0x8u : 0x10u), 4);
	ms__vfio_user_put(req + 8, index, 4);
	ms__vfio_user_put(req + 12, start, 4);
	ms__vfio_user_put(req + 16, count, 4);
	ret = vfu_request(dev, 8 /* DEVICE_SET_IRQS */, req, sizeof(req), NULL, 0, NULL, 0, &w, &p,
			  &plen);
	if (ret == 0)
		wait_release(&w);
	return ret;
}

int ms_vfio_user_reset(ms_vfio_user *dev)
{
	const uint8_t *p;
	size_t plen;
	vfu_wait w;
	int ret;

	if (!dev)
		return -EINVAL;
	ret = vfu_request(dev, MS__VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0, NULL, 0, &w, &p, &plen);
	if (ret == 0)
		wait_release(&w);
	return ret;
}

/* ---- IOMMU ---- */

/*
 * A MAP event: find the RAM behind the translated page; pass its fd when the
 * whole page lies in one shared RAM region, else let the server use
 * messages (served from dma_as, which then is the device's view through
 * the IOMMU).
 */
/*
 * DMA_MAP of [@iova, +@size), which the IOMMU sends to @translated in
 * @target: by fd when that lies in one shared RAM region, else by messages.
 */
static int iommu_map_range(ms_vfio_user *dev, uint64_t iova, uint64_t size, ms_as *target,
			   uint64_t translated, bool writable)
{
	uint64_t len = size, foff = 0;
	ms_region *ram = NULL;
	ms_section sec;
	ms_ram_info ri;
	int fd = -1, ret;

	ms_rcu_read_lock();
	if (ms_as_translate(&sec, &len, target, translated, NULL) == 0 && len == size &&
	    ms_region_ram_info(sec.region, &ri) == 0 && ri.fd >= 0 && ri.shared && ri.host) {
		ram = ms_region_ref(sec.region);
		foff = ri.fd_offset + sec.offset_in_region;
	}
	ms_rcu_read_unlock();
	if (ram) {
		/* The fd belongs to the region, which our reference keeps. */
		ret = ms_region_ram_info(ram, &ri);
		fd = ret == 0 ? ri.fd : -1;
	}
	ret = dma_map_raw(dev, iova, size, fd, foff, writable, true, target, translated);
	if (ram)
		ms_region_unref(ram);
	return ret;
}

static int iommu_map(ms_vfio_user *dev, const ms_iotlb_entry *e)
{
	if (e->addr_mask == UINT64_MAX || !e->target_as)
		return -EINVAL;
	return iommu_map_range(dev, e->iova, e->addr_mask + 1, e->target_as, e->translated_addr,
			       e->perm & MS_IOMMU_WO);
}

/*
 * An UNMAP event: every IOMMU-made mapping it touches goes, acknowledged.
 * One it covers only in part (a page unmapped out of a larger block) is
 * split: the server drops it whole (a DMA_UNMAP names a mapping exactly),
 * then gets what lies outside the event mapped again, so the pages the
 * IOMMU still maps stay reachable.
 */
static int iommu_unmap(ms_vfio_user *dev, const ms_iotlb_entry *e)
{
	uint64_t last = e->iova + e->addr_mask;
	int ret = 0;

	for (;;) {
		vfu_map m = {0};
		bool found = false;
		int r;

		pthread_mutex_lock(&dev->lock);
		for (size_t i = 0; i < dev->nr_maps; i++) {
			const vfu_map *c = &dev->maps[i];
			if (c->from_iommu && c->iova <= last &&
			    e->iova <= c->iova + (c->size - 1)) {
				m = *c;
				found = true;
				break;
			}
		}
		pthread_mutex_unlock(&dev->lock);
		if (!found)
			return ret;
		r = ms_vfio_user_dma_unmap(dev, m.iova, m.size);
		if (r < 0) {
			if (ret == 0)
				ret = r;
			if (r != -ECONNRESET && r != -ETIMEDOUT && r != -EPROTO)
				return ret; /* refused by the server: the mapping stays */
			continue;
		}
		if (m.iova < e->iova)
			r = iommu_map_range(dev, m.iova, e->iova - m.iova, m.target_as,
					    m.translated, m.writable);
		if (r == 0 && last < m.iova + (m.size - 1))
			r = iommu_map_range(dev, last + 1, m.iova + (m.size - 1) - last,
					    m.target_as, m.translated + (last + 1 - m.iova),
					    m.writable);
		if (r < 0 && ret == 0)
			ret = r;
	}
}

static int iommu_notify(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	ms_vfio_user *dev = opaque;

	(void)n;
	if (ev->type == MS_IOMMU_NOTIFIER_MAP)
		return iommu_map(dev, &ev->entry);
	if (ev->type == MS_IOMMU_NOTIFIER_UNMAP)
		return iommu_unmap(dev, &ev->entry);
	return 0;
}

int ms_vfio_user_attach_iommu(ms_vfio_user *dev, ms_region *iommu, unsigned iommu_idx)
{
	ms_iommu_notifier *n = NULL;
	int ret;

	if (!dev || !iommu)
		return -EINVAL;
	if (dev->notifier)
		return -EBUSY;
	pthread_mutex_lock(&dev->lock);
	ret = dev->dead;
	pthread_mutex_unlock(&dev->lock);
	if (ret < 0)
		return ret; /* a notifier would outlive the connection */
	ret = ms_iommu_register_notifier(
		&n, iommu,
		&(ms_iommu_notifier_opts){MS_IOMMU_NOTIFIER_OPTS_DEFAULTS,
					  .flags = MS_IOMMU_NOTIFIER_MAP | MS_IOMMU_NOTIFIER_UNMAP,
					  .iommu_idx = iommu_idx, .notify = iommu_notify,
					  .opaque = dev});
	if (ret < 0)
		return ret;
	dev->notifier = n;
	ret = ms_iommu_replay(iommu, n);
	if (ret < 0) {
		ms_iommu_unregister_notifier(n);
		dev->notifier = NULL;
		/* Take back what the replay mapped before it failed. */
		for (size_t i = dev->nr_maps; i-- > 0;) {
			if (i < dev->nr_maps && dev->maps[i].from_iommu)
				ms_vfio_user_dma_unmap(dev, dev->maps[i].iova, dev->maps[i].size);
		}
	}
	return ret;
}

/* ---- interrupts ---- */

static void *irq_main(void *arg)
{
	ms_vfio_user *dev = arg;
	struct pollfd *pfds = NULL;
	vfu_irq *copy = NULL;
	size_t n = 0;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (dev->irq_seen != dev->irq_gen || !pfds) {
			struct pollfd *np = realloc(pfds, (dev->nr_irqs + 1) * sizeof(*np));
			vfu_irq *nc = realloc(copy, (dev->nr_irqs + 1) * sizeof(*nc));
			if (np)
				pfds = np;
			if (nc)
				copy = nc;
			if (np && nc) {
				n = dev->nr_irqs;
				if (n)
					memcpy(copy, dev->irqs, n * sizeof(*copy));
				for (size_t i = 0; i < n; i++)
					pfds[i + 1] = (struct pollfd){.fd = copy[i].efd,
								      .events = POLLIN};
			} else {
				n = 0; /* out of memory: deliver nothing until the next change */
			}
			if (pfds)
				pfds[0] = (struct pollfd){.fd = dev->ctl_efd, .events = POLLIN};
			dev->irq_seen = dev->irq_gen;
			pthread_cond_broadcast(&dev->cond);
		}
		if (dev->irq_stop) {
			pthread_mutex_unlock(&dev->lock);
			break;
		}
		pthread_mutex_unlock(&dev->lock);
		if (!pfds) {
			/* Out of memory before the first set: wait for the next change. */
			struct pollfd one = {.fd = dev->ctl_efd, .events = POLLIN};
			uint64_t v;
			if (poll(&one, 1, -1) > 0 && read(dev->ctl_efd, &v, sizeof(v)) < 0)
				continue;
			continue;
		}
		if (poll(pfds, n + 1, -1) < 0)
			continue;
		if (pfds[0].revents & POLLIN) {
			uint64_t v;
			if (read(dev->ctl_efd, &v, sizeof(v)) < 0)
				continue;
			continue; /* the set changed: re-read it before delivering */
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			if ((pfds[i + 1].revents & POLLIN) &&
			    read(copy[i].efd, &v, sizeof(v)) == sizeof(v))
				copy[i].fn(copy[i].index, copy[i].vector, copy[i].opaque);
		}
	}
	free(pfds);
	free(copy);
	return NULL;
}

/* Publish a change of dev->irqs (lock held) and wait until the thread has it. */
static void irq_sync_locked(ms_vfio_user *dev)
{
	uint64_t one = 1, gen = ++dev->irq_gen;

	if (write(dev->ctl_efd, &one, sizeof(one)) < 0) {
		/* An eventfd write fails only when the counter is full: it is set. */
	}
	if (pthread_equal(pthread_self(), dev->irq_thread))
		return; /* from a callback: the loop re-reads after it returns */
	while (dev->irq_seen < gen)
		pthread_cond_wait(&dev->cond, &dev->lock);
}

static int irq_thread_start(ms_vfio_user *dev)
{
	if (dev->irq_started)
		return 0;
	dev->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->ctl_efd < 0)
		return -errno;
	if (pthread_create(&dev->irq_thread, NULL, irq_main, dev) != 0) {
		close(dev->ctl_efd);
		dev->ctl_efd = -1;
		return -ENOMEM;
	}
	dev->irq_started = true;
	return 0;
}

static void irq_thread_stop(ms_vfio_user *dev)
{
	if (!dev->irq_started)
		return;
	pthread_mutex_lock(&dev->lock);
	dev->irq_stop = true;
	irq_sync_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	pthread_join(dev->irq_thread, NULL);
	close(dev->ctl_efd);
	for (size_t i = 0; i < dev->nr_irqs; i++)
		close(dev->irqs[i].efd);
	free(dev->irqs);
	dev->irqs = NULL;
	dev->nr_irqs = 0;
	dev->irq_started = false;
}

/* Drop the vectors of @index in [start, start + count) (lock held); fds to @closing. */
static size_t irq_remove_locked(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count,
				int *closing)
{
	size_t k = 0;

	for (size_t i = 0; i < dev->nr_irqs;) {
		const vfu_irq *q = &dev->irqs[i];
		if (q->index == index && q->vector >= start && q->vector - start < count) {
			closing[k++] = q->efd;
			dev->irqs[i] = dev->irqs[--dev->nr_irqs];
		} else {
			i++;
		}
	}
	return k;
}

int ms_vfio_user_set_irqs(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count,
			  ms_vfio_user_irq_fn fn, void *opaque)
{
	uint8_t req[20];
	int efds[MS__VFU_MAX_FDS];
	int *closing = NULL;
	const uint8_t *p;
	size_t plen, nclose = 0;
	vfu_wait w;
	int ret;

	if (!dev || (fn && count == 0))
		return -EINVAL;
	ret = check_irq_range(dev, index, start, count);
	if (ret < 0)
		return ret;
	if (fn && (count > MS__VFU_MAX_FDS || count > dev->info.max_msg_fds))
		return -E2BIG;
	pthread_mutex_lock(&dev->lock);
	ret = irq_thread_start(dev);
	pthread_mutex_unlock(&dev->lock);
	if (ret < 0)
		return ret;
	for (uint32_t i = 0; fn && i < count; i++) {
		efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efds[i] < 0) {
			ret = -errno;
			close_fds(efds, i);
			return ret;
		}
	}
	ms__vfio_user_put(req, sizeof(req), 4);
	/* DATA_EVENTFD or DATA_NONE, ACTION_TRIGGER. */
	ms__vfio_user_put(req + 4, (fn ? 0x4u : 0x1u) | 0x20u, 4);
	ms__vfio_user_put(req + 8, index, 4);
	ms__vfio_user_put(req + 12, fn ? start : 0, 4);
	ms__vfio_user_put(req + 16, fn ? count : 0, 4);
	ret = vfu_request(dev, 8 /* DEVICE_SET_IRQS */, req, sizeof(req), NULL, 0, fn ? efds : NULL,
			  fn ? count : 0, &w, &p, &plen);
	if (ret == 0)
		wait_release(&w);
	if (ret < 0) {
		if (fn)
			close_fds(efds, count);
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	/* Without fn the whole index is off (count 0 disables it on the wire). */
	closing = malloc((dev->nr_irqs + 1) * sizeof(int));
	if (closing)
		nclose = irq_remove_locked(dev, index, fn ? start : 0, fn ? count : UINT32_MAX,
					   closing);
	if (fn) {
		vfu_irq *q = realloc(dev->irqs, (dev->nr_irqs + count) * sizeof(*q));
		if (!q) {
			ret = -ENOMEM;
			close_fds(efds, count);
		} else {
			dev->irqs = q;
			for (uint32_t i = 0; i < count; i++)
				dev->irqs[dev->nr_irqs++] =
					(vfu_irq){efds[i], index, start + i, fn, opaque};
		}
	}
	irq_sync_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (closing)
		close_fds(closing, (unsigned)nclose);
	free(closing);
	return ret;
}
