/*
 * Fuzz target: the comment tokenizer (lib/tokenize.c, docs/bayes.md).
 *
 * Input: one byte whose low four bits make the author, e-mail, website and
 * body NULL, then the four fields, NUL-separated in that order.
 *
 * Invariants: tokenizing never fails; the set keeps at most
 * RG__COMMENT_TOKENS_MAX tokens, each once, each 1 to RG__TOKEN_LEN_MAX
 * bytes of UTF-8 without a NUL (bytes that are not UTF-8 become "bad:xx"
 * tokens, never token text); a field with text always keeps its summary
 * tokens ("meta:len:" for the author and the body), an empty one its
 * "meta:none"; and the same comment gives the same tokens in the same
 * order in a new set and in a set reused after another comment.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "tokenize.h"
#include "tokenset.h"

/* Whether some token starts with prefix. */
static bool has_prefix(const rg__token_set *ts, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *t = rg__token_set_get(ts, i, &len);
        if (len >= n && memcmp(t, prefix, n) == 0)
            return true;
    }
    return false;
}

static bool has_token(const rg__token_set *ts, const char *token)
{
    return rg__token_set_find(ts, token, strlen(token)) >= 0;
}

static bool same_sets(const rg__token_set *a, const rg__token_set *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        size_t la, lb;
        const char *ta = rg__token_set_get(a, i, &la);
        const char *tb = rg__token_set_get(b, i, &lb);
        if (la != lb || memcmp(ta, tb, la) != 0)
            return false;
    }
    return true;
}

static void check_tokens(const rg__token_set *ts)
{
    FUZZ_CHECK(ts->count <= RG__COMMENT_TOKENS_MAX, "%zu tokens", ts->count);
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *t = rg__token_set_get(ts, i, &len);
        FUZZ_CHECK(len >= 1 && len <= RG__TOKEN_LEN_MAX, "token %zu: %zu bytes",
                   i, len);
        FUZZ_CHECK(strlen(t) == len, "token %zu holds a NUL", i);
        FUZZ_CHECK(fuzz_utf8(t, len), "token %zu is not UTF-8: '%s'", i, t);
        FUZZ_CHECK(rg__token_set_find(ts, t, len) == (long)i,
                   "token %zu ('%s') found at %ld", i, t,
                   rg__token_set_find(ts, t, len));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t nulls = fuzz_u8(&in);
    char *fields[4];
    for (int i = 0; i < 4; i++)
        fields[i] = fuzz_string(&in);

    rg_comment c;
    rg_comment_init(&c);
    c.author = nulls & 1 ? NULL : fields[0];
    c.email = nulls & 2 ? NULL : fields[1];
    c.url = nulls & 4 ? NULL : fields[2];
    c.body = nulls & 8 ? NULL : fields[3];

    rg__token_set ts, again;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    rg__token_set_init(&again, RG__COMMENT_TOKENS_MAX);

    int rc = rg__tokenize_comment(&c, &ts);
    FUZZ_CHECK(rc == RG_OK, "%s", rg_err_name(rc));
    check_tokens(&ts);

    /* Summary tokens: "meta:len:" for a text field with text, "meta:none"
     * for a field without any. */
    if (c.body && c.body[0])
        FUZZ_CHECK(has_prefix(&ts, "meta:len:"), "body summary lost");
    else
        FUZZ_CHECK(has_token(&ts, "meta:none"), "no meta:none for the body");
    if (c.author && c.author[0])
        FUZZ_CHECK(has_prefix(&ts, "a:meta:len:"), "author summary lost");
    else
        FUZZ_CHECK(has_token(&ts, "a:meta:none"), "no a:meta:none");
    if (!c.email || !c.email[0])
        FUZZ_CHECK(has_token(&ts, "e:meta:none"), "no e:meta:none");
    if (!c.url || !c.url[0])
        FUZZ_CHECK(has_token(&ts, "u:meta:none"), "no u:meta:none");

    /* The same again in a new set, and in a set reused after a short
     * comment (clearing keeps its large index). */
    rc = rg__tokenize_comment(&c, &again);
    FUZZ_CHECK(rc == RG_OK && same_sets(&ts, &again), "not deterministic");
    rg_comment other;
    rg_comment_init(&other);
    other.body = "ok";
    rg__token_set_clear(&again);
    FUZZ_CHECK(rg__tokenize_comment(&other, &again) == RG_OK, "short");
    rg__token_set_clear(&again);
    rc = rg__tokenize_comment(&c, &again);
    FUZZ_CHECK(rc == RG_OK && same_sets(&ts, &again),
               "a reused set gives other tokens");

    rg__token_set_free(&ts);
    rg__token_set_free(&again);
    for (int i = 0; i < 4; i++)
        free(fields[i]);
    return 0;
}
