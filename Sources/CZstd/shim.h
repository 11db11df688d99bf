// CZstd: libzstd for Kopia's zstd compressors. ZSTD_CONTENTSIZE_* are macros of expressions.
#pragma once
#include <stddef.h>
#include <zstd.h>
static inline unsigned long long czstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long czstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }
