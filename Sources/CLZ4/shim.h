// CLZ4: liblz4 frame API for kopia's (reserved, read-only) LZ4 compressor.
#pragma once
#include <stddef.h>
#include <lz4.h>
#include <lz4frame.h>
static inline unsigned clz4_get_version(void) { return LZ4F_VERSION; }
