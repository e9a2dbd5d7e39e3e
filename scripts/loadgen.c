/*
 * A closed-loop HTTP/1.1 load generator for the benchmarks, like `wrk -t1` but able to
 * reach a Unix socket (wrk cannot). One thread, epoll, N keep-alive connections, each
 * sending the next request as soon as the previous answer is read whole.
 *
 *   loadgen (--unix PATH | --tcp HOST:PORT) -c CONNECTIONS -d SECONDS
 *           --path P --body B [--header "Name: value"]... [--jsonrpc]
 *
 * Prints what scripts/bench_peer.py reads from wrk:
 *   Requests/sec: R
 *   ANSWERS results=N failures=F      (a failure: not 200, or with --jsonrpc no "result")
 *   LATENCY p50=US p99=US
 * Answers must carry Content-Length (awsgw's and nginx's do); anything else is an error.
 */
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LATENCY_US 1000000 /* 1 s; slower answers land in the last bucket */
#define BUFFER_SIZE 65536

struct connection {
    int fd;
    size_t sent;            /* bytes of the request written */
    char buffer[BUFFER_SIZE];
    size_t have;            /* bytes of the answer read */
    uint64_t started_ns;
};

static const char *unix_path, *tcp_address, *path = "/", *body = "";
static const char *headers[32];
static int header_count, connections = 1, seconds = 5, jsonrpc;
static char *request;
static size_t request_length;
static uint64_t *histogram;
static uint64_t results, failures, errors;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static int open_connection(void) {
    int fd;
    if (unix_path) {
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        strncpy(address.sun_path, unix_path, sizeof address.sun_path - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
    } else {
        char host[256];
        const char *colon = strrchr(tcp_address, ':');
        if (!colon || (size_t)(colon - tcp_address) >= sizeof host) { fprintf(stderr, "loadgen: --tcp HOST:PORT\n"); exit(2); }
        memcpy(host, tcp_address, (size_t)(colon - tcp_address));
        host[colon - tcp_address] = 0;
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
        if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "loadgen: bad address %s\n", host); exit(2); }
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void build_request(void) {
    size_t size = strlen(path) + strlen(body) + 256;
    for (int i = 0; i < header_count; i++) size += strlen(headers[i]) + 2;
    request = malloc(size);
    int n = snprintf(request, size, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n", path);
    for (int i = 0; i < header_count; i++) n += snprintf(request + n, size - (size_t)n, "%s\r\n", headers[i]);
    n += snprintf(request + n, size - (size_t)n, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    request_length = (size_t)n;
}

/* Writes what is left of the request; 0 when all of it is out. */
static int send_request(struct connection *c) {
    while (c->sent < request_length) {
        ssize_t n = write(c->fd, request + c->sent, request_length - c->sent);
        if (n < 0) {
            if (errno == EAGAIN) return 1;
            fail("write");
        }
        c->sent += (size_t)n;
    }
    return 0;
}

/* Length of a whole answer at the start of the buffer, 0 if more bytes are needed. */
static size_t answer_length(struct connection *c, int *status) {
    char *end = memmem(c->buffer, c->have, "\r\n\r\n", 4);
    if (!end) {
        if (c->have == BUFFER_SIZE) { fprintf(stderr, "loadgen: answer head too large\n"); exit(2); }
        return 0;
    }
    size_t head = (size_t)(end - c->buffer) + 4;
    *status = atoi(c->buffer + 9);
    long length = -1;
    for (char *line = memchr(c->buffer, '\n', head) + 1; line < c->buffer + head - 2; line = memchr(line, '\n', (size_t)(c->buffer + head - line)) + 1) {
        if (strncasecmp(line, "content-length:", 15) == 0) length = atol(line + 15);
    }
    if (length < 0) { fprintf(stderr, "loadgen: answer without Content-Length\n"); exit(2); }
    if (head + (size_t)length > BUFFER_SIZE) { fprintf(stderr, "loadgen: answer too large\n"); exit(2); }
    return c->have >= head + (size_t)length ? head + (size_t)length : 0;
}

static void record(struct connection *c, size_t length, int status) {
    uint64_t us = (now_ns() - c->started_ns) / 1000;
    histogram[us < MAX_LATENCY_US ? us : MAX_LATENCY_US]++;
    int ok = status == 200;
    if (ok && jsonrpc) {
        ok = memmem(c->buffer, length, "\"result\":", 9) != NULL && memmem(c->buffer, length, "\"error\":", 8) == NULL;
    }
    if (ok) results++; else failures++;
    memmove(c->buffer, c->buffer + length, c->have - length);
    c->have -= length;
}

static uint64_t percentile(double p) {
    uint64_t total = 0, seen = 0;
    for (int i = 0; i <= MAX_LATENCY_US; i++) total += histogram[i];
    uint64_t wanted = (uint64_t)(p / 100.0 * (double)total + 0.5);
    for (int i = 0; i <= MAX_LATENCY_US; i++) {
        seen += histogram[i];
        if (seen >= wanted && seen > 0) return (uint64_t)i;
    }
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--jsonrpc")) { jsonrpc = 1; continue; }
        if (!v) { fprintf(stderr, "loadgen: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "--unix")) unix_path = v;
        else if (!strcmp(a, "--tcp")) tcp_address = v;
        else if (!strcmp(a, "-c")) connections = atoi(v);
        else if (!strcmp(a, "-d")) seconds = atoi(v);
        else if (!strcmp(a, "--path")) path = v;
        else if (!strcmp(a, "--body")) body = v;
        else if (!strcmp(a, "--header") && header_count < 32) headers[header_count++] = v;
        else { fprintf(stderr, "loadgen: unknown argument %s\n", a); return 2; }
        i++;
    }
    if (!unix_path == !tcp_address || connections < 1 || seconds < 1) {
        fprintf(stderr, "usage: loadgen (--unix PATH | --tcp HOST:PORT) -c N -d SECONDS --path P --body B [--header H]... [--jsonrpc]\n");
        return 2;
    }
    build_request();
    histogram = calloc(MAX_LATENCY_US + 1, sizeof *histogram);
    struct connection *all = calloc((size_t)connections, sizeof *all);
    int poll = epoll_create1(0);
    if (poll < 0) fail("epoll_create1");
    uint64_t start = now_ns(), deadline = start + (uint64_t)seconds * 1000000000u;
    for (int i = 0; i < connections; i++) {
        all[i].fd = open_connection();
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &all[i]};
        if (epoll_ctl(poll, EPOLL_CTL_ADD, all[i].fd, &event) < 0) fail("epoll_ctl");
        all[i].started_ns = now_ns();
        send_request(&all[i]);
    }
    int open = connections;
    struct epoll_event events[256];
    while (open > 0) {
        int n = epoll_wait(poll, events, 256, 100);
        if (n < 0 && errno != EINTR) fail("epoll_wait");
        for (int e = 0; e < n; e++) {
            struct connection *c = events[e].data.ptr;
            if (c->fd < 0) continue;
            if (events[e].events & EPOLLOUT) send_request(c);
            if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            for (;;) {
                ssize_t got = read(c->fd, c->buffer + c->have, BUFFER_SIZE - c->have);
                if (got < 0 && errno == EAGAIN) break;
                if (got <= 0) { /* closed or failed with a request outstanding */
                    errors++;
                    close(c->fd);
                    c->fd = -1;
                    open--;
                    break;
                }
                c->have += (size_t)got;
                int status;
                size_t length;
                while ((length = answer_length(c, &status)) > 0) {
                    record(c, length, status);
                    if (now_ns() >= deadline) {
                        close(c->fd);
                        c->fd = -1;
                        open--;
                        break;
                    }
                    c->sent = 0;
                    c->started_ns = now_ns();
                    send_request(c);
                }
                if (c->fd < 0) break;
            }
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    printf("Requests/sec: %.2f\n", (double)(results + failures) / elapsed);
    if (errors) printf("Socket errors: %llu connections closed early\n", (unsigned long long)errors);
    printf("ANSWERS results=%llu failures=%llu\n", (unsigned long long)results, (unsigned long long)(failures + errors));
    printf("LATENCY p50=%llu p99=%llu\n", (unsigned long long)percentile(50), (unsigned long long)percentile(99));
    return 0;
}
