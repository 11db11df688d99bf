// CLocalTLS: the few OpenSSL server calls the loopback HTTPS servers of the local control plane need (never in the product).
// Written in C because the OpenSSL server API is macro-heavy; Swift does HTTP on top.
#pragma once
#include <stddef.h>

typedef struct ctls_server ctls_server;
typedef struct ctls_conn ctls_conn;

/// A server TLS context. client_ca may be NULL (no client certificates requested). NULL on failure, err filled.
ctls_server *ctls_server_new(const char *cert_file, const char *key_file, const char *client_ca, char *err, size_t errlen);
void ctls_server_free(ctls_server *s);
/// Listens on 127.0.0.1:port (0 = any free port). Returns the fd or -1; *bound_port receives the port.
int ctls_listen(int port, int *bound_port);
/// Blocking accept; -1 when the listener was shut down.
int ctls_accept(int listen_fd);
/// Unblocks a pending accept/read on fd (shutdown(2)); does not close it.
void ctls_shutdown_fd(int fd);
void ctls_close_fd(int fd);
/// TLS handshake on an accepted fd. NULL on failure (fd left open for the caller to close), err filled.
ctls_conn *ctls_handshake(ctls_server *s, int fd, char *err, size_t errlen);
/// >0 bytes read, 0 on orderly close, -1 on error.
long ctls_read(ctls_conn *c, void *buf, size_t len);
/// 0 when everything was written, -1 on error.
int ctls_write_all(ctls_conn *c, const void *buf, size_t len);
/// Copies the verified client certificate's CN (and O, comma-joined, into org); 1 if present, else 0.
int ctls_peer_names(ctls_conn *c, char *cn, size_t cnlen, char *org, size_t orglen);
/// Interrupts blocking I/O of c from another thread.
void ctls_interrupt(ctls_conn *c);
/// Sends close_notify (best effort), closes the fd and frees c.
void ctls_close(ctls_conn *c);
/// Names the calling thread as /proc and debuggers show it (15 bytes kept).
/// Frees the calling thread's OpenSSL state now (OPENSSL_thread_stop), rather than in its exit handler: a server
/// thread that ends while the process exits must not meet OpenSSL's own exit handler.
void ctls_release_thread_state(void);
void ctls_name_current_thread(const char *name);
