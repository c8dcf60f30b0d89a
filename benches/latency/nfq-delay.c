/*
 * nfq-delay: holds every packet of an NFQUEUE for a fixed delay, drops a
 * fraction at random, then lets it go. Built and run by benches/latency.sh
 * inside its own network namespace (there is no netem on the bench kernel).
 *
 *   nfq-delay QUEUE DELAY_US LOSS_PERCENT
 *
 * One thread: packets arrive in order and all wait the same time, so the
 * held ones form a FIFO; the loop sleeps (ppoll, nanosecond timeout) until
 * the oldest is due or a new one arrives. Run it with SCHED_FIFO (chrt -f)
 * or scheduler jitter swamps the delay. Only packet metadata is copied to
 * user space (NFQNL_COPY_META). Stops on SIGTERM/SIGINT, letting the held
 * packets go first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RING (1u << 20)

struct held {
	uint32_t id;
	int drop;
	uint64_t due;
};

static struct held ring[RING];
static uint64_t head, tail;
static uint64_t delay_ns;
static uint32_t loss_ppm;
static unsigned long long seen, dropped, overflow, enobufs;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 11);
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void)msg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	seen++;
	int drop = loss_ppm && (rnd() % 1000000u) < loss_ppm;
	if (drop) {
		dropped++;
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	}
	if (tail - head >= RING) {
		overflow++;
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	}
	ring[tail % RING] = (struct held){ id, 0, now_ns() + delay_ns };
	tail++;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s QUEUE DELAY_US LOSS_PERCENT\n", argv[0]);
		return 2;
	}
	int queue = atoi(argv[1]);
	delay_ns = strtoull(argv[2], NULL, 10) * 1000ull;
	loss_ppm = (uint32_t)(strtod(argv[3], NULL) * 10000.0);

	struct nfq_handle *h = nfq_open();
	if (!h) {
		perror("nfq_open");
		return 1;
	}
	nfq_unbind_pf(h, AF_INET);
	if (nfq_bind_pf(h, AF_INET) < 0) {
		perror("nfq_bind_pf");
		return 1;
	}
	struct nfq_q_handle *qh = nfq_create_queue(h, queue, &on_packet, NULL);
	if (!qh) {
		perror("nfq_create_queue");
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
		perror("nfq_set_mode");
		return 1;
	}
	nfq_set_queue_maxlen(qh, 200000);
	int fd = nfq_fd(h);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 64 * 1024 * 1024);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);

	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fprintf(stderr, "nfq-delay: queue %d, delay %llu us, loss %.2f %%\n", queue,
		(unsigned long long)(delay_ns / 1000), loss_ppm / 10000.0);
	static char buf[1 << 16];
	while (!stop) {
		uint64_t now = now_ns();
		while (head < tail && ring[head % RING].due <= now) {
			nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
			head++;
		}
		struct timespec ts = { 1, 0 };
		if (head < tail) {
			uint64_t wait = ring[head % RING].due - now;
			ts.tv_sec = wait / 1000000000ull;
			ts.tv_nsec = wait % 1000000000ull;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		int r = ppoll(&p, 1, &ts, NULL);
		if (r < 0 && errno != EINTR) {
			perror("ppoll");
			break;
		}
		if (r > 0) {
			for (;;) {
				ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
				if (n < 0) {
					if (errno == ENOBUFS) {
						enobufs++;
						continue;
					}
					break;
				}
				nfq_handle_packet(h, buf, (int)n);
			}
		}
	}
	while (head < tail) {
		nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
		head++;
	}
	fprintf(stderr, "nfq-delay: %llu packets, %llu dropped, %llu passed undelayed (ring full), %llu ENOBUFS\n",
		seen, dropped, overflow, enobufs);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
