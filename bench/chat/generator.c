// The load generator of bench:chat: one thread, epoll, raw WebSocket clients,
// the same for every server. In C so that reading 60,000+ frames a second
// costs little beyond the kernel's own work and never pauses for garbage
// collection (the TypeScript generator.ts remains, BENCH_GENERATOR=node).
// bench/chat.ts compiles it with gcc at run time. Driven over stdin/stdout:
//   in:  PHASE <rate> <seconds> | QUIT
//   out: READY <n> | PHASE_START | PHASE_END {json}
// Usage: generator <neon|socketio|ws> <port> <clients> <senders> <secret> <body bytes>
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { NEON, SOCKETIO, WS };
enum { CONNECTING, UPGRADING, JOINING, READY, CLOSED };

typedef struct {
  int fd;
  int state;
  int receiver;
  int index;
  unsigned char *in; // unread bytes
  size_t len, cap;
  unsigned char *out; // bytes the kernel did not take yet
  size_t olen, ocap;
} conn_t;

static enum kind kind;
static int port, nclients, nsenders, body_bytes;
static const char *secret;
static conn_t *conns; // receivers first, then senders
static int nconns, epfd;

#define BUCKET_US 100
#define NBUCKETS 300000
static uint32_t hist[NBUCKETS];
static uint64_t delivered;
static char phase_tag = 'A';
static int phase_no;

static int64_t t_origin;
static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t_origin;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void closed(conn_t *c) {
  if (c->state == CLOSED) return;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = CLOSED;
}

static void want_out(conn_t *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush_out(conn_t *c) {
  while (c->olen > 0) {
    ssize_t n = write(c->fd, c->out, c->olen);
    if (n < 0) {
      if (errno == EAGAIN) return want_out(c, 1);
      if (errno == EINTR) continue;
      return closed(c);
    }
    memmove(c->out, c->out + n, c->olen - (size_t)n);
    c->olen -= (size_t)n;
  }
  want_out(c, 0);
}

static void send_raw(conn_t *c, const void *p, size_t n) {
  if (c->state == CLOSED) return;
  if (c->olen == 0) {
    ssize_t w = write(c->fd, p, n);
    if (w == (ssize_t)n) return;
    if (w < 0 && errno != EAGAIN) return closed(c);
    if (w > 0) p = (const char *)p + w, n -= (size_t)w;
  }
  if (c->olen + n > c->ocap) {
    c->ocap = (c->olen + n) * 2;
    c->out = realloc(c->out, c->ocap);
  }
  memcpy(c->out + c->olen, p, n);
  c->olen += n;
  want_out(c, 1);
}

/** A client frame: masked with an all-zero key, so the payload goes as is. */
static void send_frame(conn_t *c, int first, const char *payload, size_t len) {
  unsigned char buf[8 + 16384];
  size_t h;
  if (len > 16384) return;
  buf[0] = (unsigned char)first;
  if (len < 126) {
    buf[1] = 0x80 | (unsigned char)len;
    h = 2;
  } else {
    buf[1] = 0x80 | 126;
    buf[2] = (unsigned char)(len >> 8);
    buf[3] = (unsigned char)len;
    h = 4;
  }
  memset(buf + h, 0, 4);
  memcpy(buf + h + 4, payload, len);
  send_raw(c, buf, h + 4 + len);
}

static void send_text(conn_t *c, const char *s) { send_frame(c, 0x81, s, strlen(s)); }

static void opened(conn_t *c) {
  if (kind == NEON) send_text(c, "[\"1\",\"1\",\"room:bench\",\"phx_join\",{}]");
  if (kind == WS) c->state = READY;
  else c->state = JOINING;
}

static void on_text(conn_t *c, const unsigned char *p, size_t n) {
  if (c->state != READY) {
    if (kind == NEON && memmem(p, n, "phx_reply", 9)) c->state = READY;
    else if (kind == SOCKETIO && n >= 2 && p[0] == '4' && p[1] == '0') c->state = READY;
    else if (kind == SOCKETIO && n >= 1 && p[0] == '0') send_text(c, "40");
    return;
  }
  if (kind == SOCKETIO && n == 1 && p[0] == '2') return send_text(c, "3");
  if (!c->receiver) return;
  const unsigned char *at = memmem(p, n, "@@", 2);
  if (!at || at + 15 > p + n) return;
  int64_t t = 0;
  for (int i = 2; i < 14; i++) t = t * 10 + (at[i] - '0');
  // Late arrivals from an earlier phase do not count toward this one.
  if (at[14] != (unsigned char)phase_tag) return;
  delivered++;
  int64_t b = (now_us() - t) / BUCKET_US;
  if (b < 0) b = 0;
  if (b >= NBUCKETS) b = NBUCKETS - 1;
  hist[b]++;
}

static void on_readable(conn_t *c) {
  for (;;) {
    if (c->cap - c->len < 16384) {
      c->cap = c->len + 32768;
      c->in = realloc(c->in, c->cap);
    }
    size_t room = c->cap - c->len;
    ssize_t r = read(c->fd, c->in + c->len, room);
    if (r == 0) return closed(c);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return closed(c);
      break;
    }
    c->len += (size_t)r;
    if ((size_t)r < room) break; // the kernel has nothing more for now
  }
  unsigned char *b = c->in;
  size_t off = 0;
  if (c->state == UPGRADING) {
    unsigned char *end = memmem(b, c->len, "\r\n\r\n", 4);
    if (!end) return;
    if (!memmem(b, (size_t)(end - b) < 16 ? (size_t)(end - b) : 16, "101", 3)) return closed(c);
    off = (size_t)(end - b) + 4;
    opened(c);
  }
  while (c->len - off >= 2 && c->state != CLOSED) {
    int op = b[off] & 0x0f;
    size_t plen = b[off + 1] & 0x7f, head = 2;
    if (plen == 126) {
      if (c->len - off < 4) break;
      plen = ((size_t)b[off + 2] << 8) | b[off + 3];
      head = 4;
    } else if (plen == 127) {
      if (c->len - off < 10) break;
      plen = ((size_t)b[off + 6] << 24) | ((size_t)b[off + 7] << 16) | ((size_t)b[off + 8] << 8) | b[off + 9];
      head = 10;
    }
    if (c->len - off < head + plen) break;
    if (op == 1) on_text(c, b + off + head, plen);
    else if (op == 9) send_frame(c, 0x8a, (const char *)b + off + head, plen);
    else if (op == 8) closed(c);
    off += head + plen;
  }
  if (c->state == CLOSED) return;
  memmove(b, b + off, c->len - off);
  c->len -= off;
}

static void on_event(struct epoll_event *ev) {
  conn_t *c = ev->data.ptr;
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      fprintf(stderr, "connect: %s\n", strerror(err));
      return closed(c);
    }
    char req[1024], path[256] = "/", headers[256] = "";
    if (kind == NEON) {
      if (c->receiver) snprintf(path, sizeof path, "/socket/websocket?vsn=2.0.0");
      else {
        snprintf(path, sizeof path, "/socket/websocket?vsn=2.0.0&id=bench-sender-%d&username=sender_%d",
                 c->index, c->index);
        snprintf(headers, sizeof headers, "x-neon-internal: %s\r\n", secret);
      }
    } else if (kind == SOCKETIO) snprintf(path, sizeof path, "/socket.io/?EIO=4&transport=websocket");
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     path, port, headers);
    c->state = UPGRADING;
    want_out(c, 0);
    send_raw(c, req, (size_t)n);
    return;
  }
  if (ev->events & EPOLLOUT) flush_out(c);
  if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
}

static void start_connect(conn_t *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->state = CONNECTING;
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/** Runs the loop for up to `ms` (0: just what is ready). */
static void poll_once(int ms) {
  struct epoll_event evs[512];
  int n = epoll_wait(epfd, evs, 512, ms);
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == NULL) continue; // stdin: read by the main loop
    on_event(&evs[i]);
  }
}

static int stdin_ready(void) {
  struct epoll_event evs[512];
  int n = epoll_wait(epfd, evs, 512, 1000), got = 0;
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == NULL) got = 1;
    else on_event(&evs[i]);
  }
  return got;
}

/** Connects `from..to` with at most 100 handshakes in flight; returns once all are ready or closed. */
static void open_range(int from, int to, int64_t deadline) {
  int next = from;
  for (;;) {
    int pending = 0, done = 1;
    for (int i = from; i < next; i++)
      if (conns[i].state != READY && conns[i].state != CLOSED) pending++, done = 0;
    while (next < to && pending < 100) start_connect(&conns[next++]), pending++, done = 0;
    if (done && next >= to) return;
    if (now_us() > deadline) {
      fprintf(stderr, "connect timeout\n");
      exit(1);
    }
    poll_once(10);
  }
}

static double percentile(double p, uint64_t total) {
  if (total == 0) return -1;
  uint64_t want = (uint64_t)((double)total * p + 0.999999), seen = 0;
  for (int i = 0; i < NBUCKETS; i++) {
    seen += hist[i];
    if (seen >= want) return (double)(i + 1) * BUCKET_US / 1000.0;
  }
  return -1;
}

static void send_body(conn_t *c, int sender, long seq) {
  char body[1024], frame[1200];
  int bb = body_bytes < 64 ? 64 : body_bytes > 900 ? 900 : body_bytes;
  int n = snprintf(body, sizeof body, "@@%012lld%c s%d n%ld ", (long long)now_us(), phase_tag, sender, seq);
  while (n < bb) body[n++] = 'x';
  body[n] = 0;
  if (kind == NEON)
    n = snprintf(frame, sizeof frame, "[\"1\",\"%ld\",\"room:bench\",\"shout\",{\"body\":\"%s\"}]", seq + 2, body);
  else if (kind == SOCKETIO) n = snprintf(frame, sizeof frame, "42[\"shout\",\"%s\"]", body);
  else n = snprintf(frame, sizeof frame, "%s", body);
  send_frame(c, 0x81, frame, (size_t)n);
}

static void heartbeat(void) {
  if (kind != NEON) return;
  for (int i = 0; i < nconns; i++) send_text(&conns[i], "[null,\"hb\",\"phoenix\",\"heartbeat\",{}]");
}

static void run_phase(double rate, double seconds) {
  memset(hist, 0, sizeof hist);
  delivered = 0;
  phase_tag = (char)('A' + (phase_no++ % 26));
  printf("PHASE_START\n");
  fflush(stdout);
  int64_t t0 = now_us();
  long total = (long)(rate * seconds + 0.5), sent = 0;
  conn_t *senders = conns + nclients;
  while (sent < total && now_us() - t0 < (int64_t)(seconds * 1e6) + 5000000) {
    long due = (long)((double)(now_us() - t0) / 1e6 * rate);
    if (due > total) due = total;
    for (; sent < due; sent++) send_body(&senders[sent % nsenders], (int)(sent % nsenders), sent);
    poll_once(1);
  }
  int live = 0;
  for (int i = 0; i < nclients; i++) live += conns[i].state != CLOSED;
  uint64_t expected = (uint64_t)sent * (uint64_t)nclients;
  int64_t drain_end = now_us() + 3000000;
  while (now_us() < drain_end && delivered < expected) poll_once(5);
  double loss = expected ? 1.0 - (double)delivered / (double)expected : 0;
  printf("PHASE_END {\"rate\":%g,\"seconds\":%g,\"sent\":%ld,\"expected\":%llu,\"delivered\":%llu,"
         "\"loss\":%.6f,\"p50ms\":%.1f,\"p99ms\":%.1f,\"receiversConnected\":%d}\n",
         rate, seconds, sent, (unsigned long long)expected, (unsigned long long)delivered, loss,
         percentile(0.5, delivered), percentile(0.99, delivered), live);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: generator <neon|socketio|ws> <port> <clients> <senders> <secret> <body bytes>\n");
    return 2;
  }
  kind = strcmp(argv[1], "neon") == 0 ? NEON : strcmp(argv[1], "socketio") == 0 ? SOCKETIO : WS;
  port = atoi(argv[2]);
  nclients = atoi(argv[3]);
  nsenders = atoi(argv[4]);
  secret = argv[5];
  body_bytes = atoi(argv[6]);
  t_origin = 0;
  t_origin = now_us();
  nconns = nclients + nsenders;
  conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    conns[i].receiver = i < nclients;
    conns[i].index = i < nclients ? i : i - nclients;
    conns[i].fd = -1;
  }
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  int64_t deadline = now_us() + 120000000;
  open_range(0, nclients, deadline);
  open_range(nclients, nconns, deadline);
  int ready = 0;
  for (int i = 0; i < nclients; i++) ready += conns[i].state == READY;
  printf("READY %d\n", ready);
  fflush(stdout);

  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event sev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &sev);
  char line[256];
  size_t ll = 0;
  int64_t next_hb = now_us() + 25000000;
  for (;;) {
    if (now_us() > next_hb) heartbeat(), next_hb = now_us() + 25000000;
    if (!stdin_ready()) continue;
    for (;;) {
      ssize_t r = read(0, line + ll, 1);
      if (r == 0) return 0;
      if (r < 0) break;
      if (line[ll] != '\n') {
        if (ll < sizeof line - 1) ll++;
        continue;
      }
      line[ll] = 0;
      ll = 0;
      double rate, seconds;
      if (strcmp(line, "QUIT") == 0) return 0;
      if (sscanf(line, "PHASE %lf %lf", &rate, &seconds) == 2) {
        run_phase(rate, seconds);
        next_hb = now_us() + 25000000;
      }
    }
  }
}
