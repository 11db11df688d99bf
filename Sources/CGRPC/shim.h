// CGRPC: gRPC core C API. libc headers MUST come before the first grpc header (grpc-c.md §3.2):
// grpc's port_platform.h defines _GNU_SOURCE and would otherwise clash with SwiftGlibc's fd_set.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/select.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

// Function-like and composite macros Swift cannot import (grpc-c.md §3.3).
static inline uint8_t *cgrpc_slice_start(grpc_slice *s) { return GRPC_SLICE_START_PTR(*s); }
static inline size_t cgrpc_slice_length(grpc_slice *s) { return GRPC_SLICE_LENGTH(*s); }
static inline uint32_t cgrpc_propagate_defaults(void) { return GRPC_PROPAGATE_DEFAULTS; }

/// Names the calling thread (at most 15 bytes are kept), so profilers and `top -H` show the queue threads.
/// pthread_setname_np needs _GNU_SOURCE before <pthread.h>, which this header must not define (§3.2).
static inline void cgrpc_name_current_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/// The calling thread's kernel id (what /proc/self/task/<id> names); glibc declares gettid only with _GNU_SOURCE.
static inline int32_t cgrpc_current_thread_id(void) { return (int32_t)syscall(SYS_gettid); }

// ---------------------------------------------------------------------------------------------------------
// Unary call batches. Every pointer a grpc_op holds must stay at a fixed address until its batch completes
// (grpc-c.md §3.5), so the per-call state is one C struct that Swift allocates once per call, and the op
// arrays are built here, next to the fields they point into. The op arrays themselves may be temporaries.
// These stay as long as Ferry drives gRPC core directly.

/// Client side of one unary call: what the six-op batch reads and writes.
typedef struct cgrpc_client_call {
    grpc_byte_buffer *send_message;
    grpc_byte_buffer *recv_message;
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_status_code status;
    grpc_slice status_details;
    const char *error_string;
} cgrpc_client_call;

static inline void cgrpc_client_call_init(cgrpc_client_call *c) {
    memset(c, 0, sizeof *c);
    grpc_metadata_array_init(&c->initial_metadata);
    grpc_metadata_array_init(&c->trailing_metadata);
    c->status = GRPC_STATUS_UNKNOWN;
    c->status_details = grpc_empty_slice();
}

static inline void cgrpc_client_call_destroy(cgrpc_client_call *c) {
    if (c->send_message) grpc_byte_buffer_destroy(c->send_message);
    if (c->recv_message) grpc_byte_buffer_destroy(c->recv_message);
    grpc_metadata_array_destroy(&c->initial_metadata);
    grpc_metadata_array_destroy(&c->trailing_metadata);
    grpc_slice_unref(c->status_details);
    if (c->error_string) gpr_free((void *)c->error_string);
}

/// Starts SEND_INITIAL_METADATA, SEND_MESSAGE, SEND_CLOSE_FROM_CLIENT, RECV_INITIAL_METADATA, RECV_MESSAGE and
/// RECV_STATUS_ON_CLIENT as one batch. `initial_flags` carries e.g. GRPC_INITIAL_METADATA_WAIT_FOR_READY.
static inline grpc_call_error cgrpc_client_call_start(grpc_call *call, cgrpc_client_call *c,
                                                      uint32_t initial_flags, void *tag) {
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = initial_flags;
    ops[0].data.send_initial_metadata.count = 0;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send_message;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv_message;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->status_details;
    ops[5].data.recv_status_on_client.error_string = &c->error_string;
    return grpc_call_start_batch(call, ops, 6, tag, NULL);
}

/// Server side of one unary call, from the request-call to the status.
///
/// Registered methods (grpc_server_register_method with GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER) arrive with
/// the request message already read into `recv_message` and the deadline in `deadline`, so a call needs no
/// receive batch (grpc-c.md §4.1). Unknown methods arrive through the generic request-call, with the method and
/// deadline in `details` and no message read.
typedef struct cgrpc_server_call {
    grpc_call *call;
    grpc_call_details details;
    gpr_timespec deadline;
    grpc_metadata_array request_metadata;
    grpc_byte_buffer *recv_message;
    grpc_byte_buffer *send_message;
    int cancelled;
} cgrpc_server_call;

static inline void cgrpc_server_call_init(cgrpc_server_call *c) {
    memset(c, 0, sizeof *c);
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->request_metadata);
    c->deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);
}

static inline void cgrpc_server_call_destroy(cgrpc_server_call *c) {
    if (c->call) grpc_call_unref(c->call);
    if (c->recv_message) grpc_byte_buffer_destroy(c->recv_message);
    if (c->send_message) grpc_byte_buffer_destroy(c->send_message);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->request_metadata);
}

/// Registers `method` (a full path) so its calls arrive with the request message pre-read. Before server start.
static inline void *cgrpc_server_register_unary_method(grpc_server *server, const char *method) {
    return grpc_server_register_method(server, method, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
}

/// Posts one request for a call to the registered method `method_handle`.
static inline grpc_call_error cgrpc_server_request_registered_call(grpc_server *server, void *method_handle,
                                                                   grpc_completion_queue *cq,
                                                                   cgrpc_server_call *c, void *tag) {
    return grpc_server_request_registered_call(server, method_handle, &c->call, &c->deadline,
                                               &c->request_metadata, &c->recv_message, cq, cq, tag);
}

/// Posts one request for a call to any method that was not registered.
static inline grpc_call_error cgrpc_server_request_call(grpc_server *server, grpc_completion_queue *cq,
                                                        cgrpc_server_call *c, void *tag) {
    return grpc_server_request_call(server, &c->call, &c->details, &c->request_metadata, cq, cq, tag);
}

/// RECV_CLOSE_ON_SERVER on its own: completes when the call ends; `cancelled` is 1 after a client cancel or
/// an expired deadline (grpc-c.md §3.10).
static inline grpc_call_error cgrpc_server_call_watch_close(cgrpc_server_call *c, void *tag) {
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    return grpc_call_start_batch(c->call, &op, 1, tag, NULL);
}

/// The one reply batch: SEND_INITIAL_METADATA (empty), SEND_MESSAGE (when `c->send_message` is set) and
/// SEND_STATUS_FROM_SERVER. grpc copies the details.
static inline grpc_call_error cgrpc_server_call_start_reply(cgrpc_server_call *c, grpc_status_code status,
                                                            const char *details, size_t details_length,
                                                            void *tag) {
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = 0;
    n++;
    if (c->send_message) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->send_message;
        n++;
    }
    grpc_slice details_slice = details_length == 0 ? grpc_empty_slice()
                                                   : grpc_slice_from_copied_buffer(details, details_length);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.trailing_metadata_count = 0;
    ops[n].data.send_status_from_server.status = status;
    ops[n].data.send_status_from_server.status_details = &details_slice;
    n++;
    grpc_call_error err = grpc_call_start_batch(c->call, ops, n, tag, NULL);
    grpc_slice_unref(details_slice);
    return err;
}

// ---------------------------------------------------------------------------------------------------------
// Byte buffers <-> contiguous bytes (grpc-c.md §3.4).

/// A byte buffer holding a copy of `length` bytes at `bytes` (which may be NULL when length is 0).
static inline grpc_byte_buffer *cgrpc_byte_buffer_copy_from(const void *bytes, size_t length) {
    grpc_slice slice = length == 0 ? grpc_empty_slice() : grpc_slice_from_copied_buffer((const char *)bytes, length);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

/// Flattens `bb` into one slice (decompressing if needed); the caller unrefs it. Returns 0 on failure.
static inline int cgrpc_byte_buffer_flatten(grpc_byte_buffer *bb, grpc_slice *out) {
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb)) return 0;
    *out = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    return 1;
}

/// One integer channel argument; `key` must outlive the grpc_*_create call it is passed to.
static inline grpc_arg cgrpc_integer_arg(const char *key, int value) {
    grpc_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.type = GRPC_ARG_INTEGER;
    arg.key = (char *)key;
    arg.value.integer = value;
    return arg;
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO, no system call): the busy-poll clock of the completion-queue thread.
static inline int64_t cgrpc_monotonic_nanos(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/// gpr_timespec for "now + micros" on the monotonic clock, the clock gRPC deadlines travel in.
static inline gpr_timespec cgrpc_deadline_after_micros(int64_t micros) {
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_micros(micros, GPR_TIMESPAN));
}

/// Microseconds from now until `deadline`; INT64_MAX for an infinite deadline. Negative when already past.
static inline int64_t cgrpc_micros_until(gpr_timespec deadline) {
    if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0) return INT64_MAX;
    gpr_timespec now = gpr_now(deadline.clock_type);
    gpr_timespec left = gpr_time_sub(deadline, now);
    return left.tv_sec * 1000000 + left.tv_nsec / 1000;
}
