/*
 * Stands in for <stddef.h> while include/replyguard.h is flattened for
 * PHP's FFI: the real one would pour the C library's own declarations into
 * the flat header, which FFI's parser does not need and may reject. FFI
 * already knows size_t.
 */
