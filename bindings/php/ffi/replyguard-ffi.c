/*
 * The input of the flat header for PHP's FFI (bindings/php/meson.build runs
 * it through the C preprocessor). FFI's parser reads declarations only: it
 * skips every #define, so the header's size macros would be lost. This file
 * keeps those that have no function (rg_key_bytes() and friends already
 * exist) as enum constants, which FFI can read: $ffi->RG_FFI_FORM_MAX.
 */
#include <replyguard.h>

#define RG_FFI_(name) RG_FFI_##name = RG_##name

enum rg_ffi_constant {
    RG_FFI_(KEY_BYTES),
    RG_FFI_(QUESTION_MAX),
    RG_FFI_(TOKEN_MAX),
    RG_FFI_(ANSWER_MAX),
    RG_FFI_(LOCALE_MAX),
    RG_FFI_(CLUE_TOKEN_MAX),
    RG_FFI_(CLIENT_KEY_MAX),
    RG_FFI_(FORM_MAX),
    RG_FFI_(FIELD_NAME_MAX)
};
