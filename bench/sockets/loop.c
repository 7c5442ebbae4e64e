/*
 * The C side of the socket benchmark: the same loops as bench/sockets/peer.ts,
 * on the same kind of socket (raw IPv4, protocol 240, bound to one device,
 * non-blocking, one poll() then recv(MSG_DONTWAIT) until EAGAIN).
 *
 *   loop send DEV DST SIZE MS          send as fast as possible for MS ms
 *   loop pace DEV DST SIZE COUNT US    send COUNT stamped packets, one per US µs
 *   loop recv DEV GROUP MS             receive for MS ms; report rate and latency
 *
 * Every payload starts with the send time (CLOCK_REALTIME, ns, little endian)
 * so the receiver can compute one-way latency; both ends share the host clock.
 * Output: one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROTO 240
#define MAX_SAMPLES 1000000
/* Latency percentiles skip the first packets of a run (both sides alike): a
 * freshly started receiver is still warming up (page faults, and for the TS
 * side JIT compilation), and the agent is a long-running process. */
#define WARMUP 200

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_raw(const char *dev) {
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, PROTO);
  if (fd < 0) { perror("socket"); exit(1); }
  int one = 1, ttl = 255, tos = 0x10, off = 0;
  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off);
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, strlen(dev) + 1) != 0) {
    perror("SO_BINDTODEVICE"); exit(1);
  }
  struct ip_mreqn mreq = {0};
  mreq.imr_ifindex = (int)if_nametoindex(dev);
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
  return fd;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int send_loop(int fd, const char *dst, int size, int64_t duration_ns, long count,
                     long interval_us) {
  struct sockaddr_in to = {.sin_family = AF_INET};
  inet_pton(AF_INET, dst, &to.sin_addr);
  unsigned char *buf = calloc(1, (size_t)size);
  long sent = 0, busy = 0;
  int64_t start = now_ns(CLOCK_MONOTONIC), next = start;
  for (;;) {
    int64_t t = now_ns(CLOCK_MONOTONIC);
    if (count > 0 ? sent >= count : t - start >= duration_ns) break;
    if (interval_us > 0) {
      /* sleep, not spin: a spinning sender would take a core from the receiver */
      struct timespec until = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
      if (next > t) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
      next += interval_us * 1000;
    }
    int64_t stamp = now_ns(CLOCK_REALTIME);
    memcpy(buf, &stamp, sizeof stamp);
    if (sendto(fd, buf, (size_t)size, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to) < 0) {
      if (errno == EAGAIN || errno == ENOBUFS) { busy++; continue; }
      perror("sendto"); return 1;
    }
    sent++;
  }
  double seconds = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
  printf("{\"sent\":%ld,\"busy\":%ld,\"seconds\":%.6f,\"pps\":%.1f}\n", sent, busy, seconds,
         sent / seconds);
  return 0;
}

static int recv_loop(int fd, const char *dev, const char *group, int64_t duration_ns) {
  struct ip_mreqn mreq = {0};
  inet_pton(AF_INET, group, &mreq.imr_multiaddr);
  mreq.imr_ifindex = (int)if_nametoindex(dev);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    perror("IP_ADD_MEMBERSHIP"); return 1;
  }
  int64_t *lat = malloc(sizeof(int64_t) * MAX_SAMPLES);
  unsigned char buf[65536];
  long received = 0, bytes = 0;
  int64_t first = 0, last = 0, start = now_ns(CLOCK_MONOTONIC);
  printf("{\"ready\":true}\n");
  fflush(stdout);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (;;) {
    int64_t left_ms = (duration_ns - (now_ns(CLOCK_MONOTONIC) - start)) / 1000000;
    if (left_ms <= 0) break;
    if (poll(&pfd, 1, (int)left_ms) <= 0) continue;
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      int64_t at = now_ns(CLOCK_REALTIME);
      size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
      if ((size_t)n < ihl + 8) continue;
      int64_t stamp;
      memcpy(&stamp, buf + ihl, sizeof stamp);
      if (received < MAX_SAMPLES) lat[received] = at - stamp;
      if (received == 0) first = at;
      last = at;
      received++;
      bytes += n;
    }
  }
  long stored = received < MAX_SAMPLES ? received : MAX_SAMPLES;
  long skip = stored > 2 * WARMUP ? WARMUP : 0;
  long samples = stored - skip;
  int64_t *steady = lat + skip;
  qsort(steady, (size_t)samples, sizeof(int64_t), cmp_i64);
  double span = (double)(last - first) / 1e9;
  double p50 = samples ? steady[samples / 2] / 1e3 : 0;
  double p99 = samples ? steady[(samples * 99) / 100] / 1e3 : 0;
  printf("{\"received\":%ld,\"bytes\":%ld,\"span\":%.6f,\"pps\":%.1f,\"p50_us\":%.1f,"
         "\"p99_us\":%.1f}\n",
         received, bytes, span, span > 0 ? (received - 1) / span : 0, p50, p99);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "send") == 0) {
    return send_loop(open_raw(argv[2]), argv[3], atoi(argv[4]), atoll(argv[5]) * 1000000, 0, 0);
  }
  if (argc >= 7 && strcmp(argv[1], "pace") == 0) {
    return send_loop(open_raw(argv[2]), argv[3], atoi(argv[4]), 0, atol(argv[5]), atol(argv[6]));
  }
  if (argc >= 5 && strcmp(argv[1], "recv") == 0) {
    return recv_loop(open_raw(argv[2]), argv[2], argv[3], atoll(argv[4]) * 1000000);
  }
  fprintf(stderr, "usage: loop send|pace|recv …\n");
  return 2;
}
