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
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

// Function-like and composite macros Swift cannot import (grpc-c.md §3.3).
static inline uint8_t *cgrpc_slice_start(grpc_slice *s) { return GRPC_SLICE_START_PTR(*s); }
static inline size_t cgrpc_slice_length(grpc_slice *s) { return GRPC_SLICE_LENGTH(*s); }
static inline uint32_t cgrpc_propagate_defaults(void) { return GRPC_PROPAGATE_DEFAULTS; }
