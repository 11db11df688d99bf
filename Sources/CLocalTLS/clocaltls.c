#define _GNU_SOURCE
#include "clocaltls.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctls_server { SSL_CTX *ctx; };
struct ctls_conn { SSL *ssl; int fd; };

static void fill_err(char *err, size_t errlen, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

static int accept_any_client(int ok, X509_STORE_CTX *ctx) { (void)ctx; return ok; }

ctls_server *ctls_server_new(const char *cert_file, const char *key_file, const char *client_ca, char *err, size_t errlen) {
    signal(SIGPIPE, SIG_IGN);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { fill_err(err, errlen, "SSL_CTX_new"); return NULL; }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) { fill_err(err, errlen, "certificate"); SSL_CTX_free(ctx); return NULL; }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) { fill_err(err, errlen, "key"); SSL_CTX_free(ctx); return NULL; }
    if (client_ca) {
        if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) { fill_err(err, errlen, "client ca"); SSL_CTX_free(ctx); return NULL; }
        SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(client_ca));
        // Request a certificate; a presented one must verify (handshake fails otherwise); none is allowed.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client);
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"ferry", 5);
    ctls_server *s = calloc(1, sizeof *s);
    s->ctx = ctx;
    return s;
}

void ctls_server_free(ctls_server *s) { if (s) { SSL_CTX_free(s->ctx); free(s); } }

int ctls_listen(int port, int *bound_port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) { close(fd); return -1; }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *bound_port = ntohs(a.sin_port);
    return fd;
}

int ctls_accept(int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return -1;
    }
}

void ctls_shutdown_fd(int fd) { shutdown(fd, SHUT_RDWR); }
void ctls_close_fd(int fd) { close(fd); }

ctls_conn *ctls_handshake(ctls_server *s, int fd, char *err, size_t errlen) {
    SSL *ssl = SSL_new(s->ctx);
    if (!ssl) { fill_err(err, errlen, "SSL_new"); return NULL; }
    SSL_set_fd(ssl, fd);  /* a socket BIO without BIO_CLOSE: the caller closes fd when this fails */
    if (SSL_accept(ssl) != 1) { fill_err(err, errlen, "handshake"); SSL_free(ssl); return NULL; }
    ctls_conn *c = calloc(1, sizeof *c);
    c->ssl = ssl;
    c->fd = fd;
    return c;
}

long ctls_read(ctls_conn *c, void *buf, size_t len) {
    for (;;) {
        size_t got = 0;
        int r = SSL_read_ex(c->ssl, buf, len, &got);
        if (r == 1) return (long)got;
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_SYSCALL && errno == EINTR) continue;
        return e == SSL_ERROR_SYSCALL && errno == 0 ? 0 : -1;
    }
}

int ctls_write_all(ctls_conn *c, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        size_t n = 0;
        if (SSL_write_ex(c->ssl, p, len, &n) != 1) { ERR_clear_error(); return -1; }
        p += n;
        len -= n;
    }
    return 0;
}

int ctls_peer_names(ctls_conn *c, char *cn, size_t cnlen, char *org, size_t orglen) {
    X509 *peer = SSL_get1_peer_certificate(c->ssl);
    if (!peer) return 0;
    if (SSL_get_verify_result(c->ssl) != X509_V_OK) { X509_free(peer); return 0; }
    X509_NAME *name = X509_get_subject_name(peer);
    cn[0] = 0; org[0] = 0;
    X509_NAME_get_text_by_NID(name, NID_commonName, cn, (int)cnlen);
    size_t used = 0;
    int idx = -1;
    while ((idx = X509_NAME_get_index_by_NID(name, NID_organizationName, idx)) >= 0) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
        const unsigned char *s = ASN1_STRING_get0_data(d);
        int l = ASN1_STRING_length(d);
        if (used + (size_t)l + 2 >= orglen) break;
        if (used) org[used++] = ',';
        memcpy(org + used, s, (size_t)l);
        used += (size_t)l;
        org[used] = 0;
    }
    X509_free(peer);
    return 1;
}

void ctls_interrupt(ctls_conn *c) { shutdown(c->fd, SHUT_RDWR); }

void ctls_close(ctls_conn *c) {
    if (!c) return;
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

void ctls_release_thread_state(void) { OPENSSL_thread_stop(); }

void ctls_name_current_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
