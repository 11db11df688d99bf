// CZlib: zlib for gzip/deflate/pgzip. deflateInit2/inflateInit2 are macros over the *_ functions.
#pragma once
#include <stddef.h>
#include <zlib.h>
static inline int czlib_inflate_init2(z_stream *s, int windowBits) { return inflateInit2(s, windowBits); }
static inline int czlib_deflate_init2(z_stream *s, int level, int windowBits, int memLevel) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
