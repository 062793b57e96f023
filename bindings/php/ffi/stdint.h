/*
 * Stands in for <stdint.h> while include/replyguard.h is flattened for
 * PHP's FFI (see stddef.h here). FFI already knows uint8_t, uint32_t and
 * uint64_t.
 */
