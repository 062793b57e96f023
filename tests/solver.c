#include "solver.h"

#include <ctype.h>
#include <string.h>

enum { ADD, SUB, MUL };

static int op_at(const char *p, size_t *len)
{
    static const struct {
        const char *text;
        int op;
    } ops[] = {
        {"+", ADD},
        {"\xe2\x88\x92", SUB},
        {"\xc3\x97", MUL},
        {"plus", ADD},
        {"minus", SUB},
        {"times", MUL},
        /* The other locales' operator words (plus and minus are shared). */
        {"\xd0\xbf\xd0\xbb\xd1\x8e\xd1\x81", ADD},         /* плюс */
        {"\xd0\xbc\xd0\xb8\xd0\xbd\xd1\x83\xd1\x81", SUB}, /* минус */
        {"\xd1\x83\xd0\xbc\xd0\xbd\xd0\xbe\xd0\xb6\xd0\xb8\xd1\x82"
         "\xd1\x8c",
         MUL}, /* умножить (на) */
        {"mal ", MUL},
        {"moins", SUB},
        {"fois", MUL},
        {"m\xc3\xa1s", ADD},
        {"menos", SUB},
        {" por ", MUL},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(p, ops[i].text, n) == 0) {
            *len = n;
            return ops[i].op;
        }
    }
    return -1;
}

static int64_t apply(int op, int64_t a, int64_t b)
{
    return op == ADD ? a + b : op == SUB ? a - b : a * b;
}

/* A "?" stands for a term when an operator or "=" follows it; otherwise it
 * ends a sentence ("Quel nombre manque ? 20 − ? = 5"). */
static bool is_unknown(const char *p)
{
    size_t len;
    p++;
    while (*p == ' ')
        p++;
    return *p == '=' || op_at(p, &len) >= 0;
}

bool rg_test_solve(const char *q, uint32_t *answer)
{
    /* Terms left of "=", evaluated left to right (the guard only mixes + and
     * − in three terms), with at most one unknown; then the result, if any. */
    int64_t terms[3];
    int ops[2], nterms = 0, nops = 0, unknown = -1;
    int64_t result = -1;
    bool after_equals = false;

    for (const char *p = q; *p;) {
        size_t len = 0;
        int op;
        if (isdigit((unsigned char)*p)) {
            int64_t v = 0;
            while (isdigit((unsigned char)*p))
                v = v * 10 + (*p++ - '0');
            if (after_equals)
                result = v;
            else if (nterms < 3)
                terms[nterms++] = v;
            else
                return false;
        } else if (*p == '?' && is_unknown(p)) {
            if (nterms == 3)
                return false;
            unknown = nterms;
            terms[nterms++] = 0;
            p++;
        } else if (*p == '=') {
            after_equals = true;
            p++;
        } else if ((op = op_at(p, &len)) >= 0) {
            if (nops == 2)
                return false;
            ops[nops++] = op;
            p += len;
        } else {
            p++;
        }
    }
    if (nterms < 2 || nops != nterms - 1)
        return false;
    if (unknown < 0) {
        int64_t v = terms[0];
        for (int i = 1; i < nterms; i++)
            v = apply(ops[i - 1], v, terms[i]);
        *answer = (uint32_t)v;
        return v >= 0;
    }
    if (result < 0 || nterms != 2)
        return false;
    /* Try every value for the unknown: the guard makes it unique. */
    for (int64_t x = 0; x <= 999; x++) {
        terms[unknown] = x;
        if (apply(ops[0], terms[0], terms[1]) == result) {
            *answer = (uint32_t)x;
            return true;
        }
    }
    return false;
}
