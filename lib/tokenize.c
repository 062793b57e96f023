/*
 * The comment tokenizer. Each text field goes through three steps:
 *
 * 1. decode(): bytes to clean text. Invalid UTF-8 becomes tokens of its
 *    own, HTML tags are stripped (their link targets are tokenized on the
 *    way), character references are decoded, invisible characters are
 *    dropped and counted, and whitespace and controls become plain spaces.
 *    ASCII is lower-cased here, and so is every other character whose NFKC
 *    case fold is one code point that needs no context (fold_char()).
 *    Anything else is left as it is, and the space-separated segment it is
 *    in is marked.
 * 2. Only the marked segments go through u8_casefold() with NFKC: that
 *    call costs about 150 ns a byte, so most comments never make it.
 * 3. The text is cut at spaces into pieces; in each piece, URLs and e-mail
 *    addresses are found and decomposed, and the rest is split into words,
 *    numbers and symbols.
 *
 * Every loop moves forward through its input, so the work is linear in the
 * size of the comment, and the token set bounds the memory. docs/bayes.md
 * lists the tokens.
 */
#include "tokenize.h"

#include <libpsl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/*
 * Adjacent-word bigrams ("bi:free entry"). They nearly double the tokens,
 * and so the model, per comment, and they pay for it: on the YouTube
 * corpus they lifted MCC from 0.86 to 0.89 ("check out" is spam where
 * "check on" is not). Set to false to do without them.
 */
static const bool bigrams_enabled = true;

enum {
    /* A '<' whose '>' is further than this is text, not a tag. */
    TAG_MAX = 2048,
    /* Bytes of the author, e-mail and website fields that are read. */
    SHORT_FIELD_MAX = 4096,
    /*
     * Bytes of a word kept for its token: more than the token set keeps,
     * so that the set, not we, cuts it on a character boundary.
     */
    PART_MAX = RG__TOKEN_LEN_MAX + 4,
    /*
     * Bytes of a token that matter: the set cuts a longer one after at
     * most RG__TOKEN_LEN_MAX bytes, looking at the byte after them to find
     * a character boundary. Tokens are built only this far.
     */
    TOKEN_KEEP = RG__TOKEN_LEN_MAX + 1,
    /* Longest prefix ("a:") and kind ("mail:dom:") of a token. */
    HEAD_MAX = 24,
    /* Words taken from the path and query of one URL. */
    PATH_WORDS_MAX = 16,
    /* Pieces of a field tried as bare domains ("example.com"). */
    BARE_TRIES_MAX = 64,
    /* Content tokens each short field may add. */
    AUTHOR_TOKENS_MAX = 64,
    URL_TOKENS_MAX = 32,
    EMAIL_TOKENS_MAX = 8,
    /*
     * Room kept in the set for the meta tokens, which come last because
     * they sum up a whole field: at most 9 for each text field and 4 for
     * each of the others.
     */
    META_RESERVE = 32,
    /* Digits in a phone number, once separators are taken out. */
    PHONE_MIN = 9,
    PHONE_MAX = 15,
    /* A slow-path text this short is folded without allocating. */
    STACK_TEXT = 1024,
    /* Bytes of a comment that u8_casefold() gets at most: about 2 ms. */
    FOLD_MAX = 16384,
};

/* The marker decode() puts in place of the space before a marked segment. */
#define SLOW_MARK '\001'

typedef enum url_mode {
    URL_TEXT,  /* found in text: starts with a scheme or "www." */
    URL_HREF,  /* a link target: may be relative */
    URL_FIELD, /* the website field: a bare host is a host */
    URL_BARE   /* a bare domain found in text, like "example.com" */
} url_mode;

/* The state of one call, and the statistics of the field being read. */
typedef struct tok {
    rg__token_set *ts;
    size_t prefix_len;  /* of "a:", "e:", "u:" or "" for the body */
    size_t content_max; /* content tokens stop at this many in the set */
    size_t stop;        /* ... and at this many for the current field */
    int err;

    size_t chars;         /* visible characters, spaces included */
    size_t upper, lower;  /* cased letters before folding */
    size_t word_upper;    /* upper-case letters of the current word */
    size_t word_lower;    /* lower-case letters of the current word */
    size_t capwords;      /* words of 3 or more letters, all capitals */
    size_t invisible;     /* format characters dropped */
    size_t bad;           /* bytes that are not UTF-8 */
    size_t links;         /* link targets and URLs in the text */
    size_t mixed;         /* words mixing scripts */
    size_t bare_tries;    /* pieces tried as bare domains */
    uint32_t bad_seen[4]; /* the bytes 0x80-0xff seen not to be UTF-8 */
    const uc_script_t *scripts[3];
    size_t nscripts;

    /* A run of digit groups that may be one phone number. */
    bool phone_open;
    size_t phone_digits, phone_gap, phone_pre_len;
    char phone_pre[3];

    size_t href_len; /* bytes of href */
    size_t bi_head;  /* bytes of bi before the previous word */
    size_t prev_len; /* bytes of it kept, or 0 */

    /* Latin is in scripts: most words need not look. */
    bool latin_listed;

    /* Bytes u8_casefold() may still be given (see split_text()). */
    size_t fold_budget;

    /*
     * The buffers come last: rg__tokenize_comment() clears the fields
     * above only, and each buffer is read only as far as it was written.
     * href is the last link target, so that a link's own text is not
     * counted.
     */
    char href[256];

    /* The token being built: the field's prefix, its kind, its text. */
    char buf[HEAD_MAX + TOKEN_KEEP];

    /*
     * The bigram being built: the field's prefix, "bi:", the previous word
     * and room for the next one.
     */
    char bi[HEAD_MAX + TOKEN_KEEP];
} tok;

/* The state of one decode() call. */
typedef struct dec {
    char *out;
    size_t len;
    size_t seg_start;  /* where the current segment starts in out */
    bool seg_marked;   /* it has been marked for folding */
    bool first_marked; /* the first segment has (it has no space before) */
    bool any_marked;
    bool tags;     /* strip HTML tags */
    bool entities; /* decode character references */
    bool stats;    /* count characters and capitals */
    size_t gt;     /* the first '>' at or after the last search, or n */
    bool gt_known;
} dec;

/* Scripts compared by identity; uc_script() returns pointers to these. */
static const uc_script_t *script_latin, *script_common, *script_inherited,
    *script_han, *script_hiragana, *script_katakana, *script_hangul,
    *script_bopomofo;
static pthread_once_t scripts_once = PTHREAD_ONCE_INIT;

static void find_scripts(void)
{
    script_latin = uc_script_byname("Latin");
    script_common = uc_script_byname("Common");
    script_inherited = uc_script_byname("Inherited");
    script_han = uc_script_byname("Han");
    script_hiragana = uc_script_byname("Hiragana");
    script_katakana = uc_script_byname("Katakana");
    script_hangul = uc_script_byname("Hangul");
    script_bopomofo = uc_script_byname("Bopomofo");
}

static bool is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static bool is_digit(unsigned char c)
{
    return (unsigned char)(c - '0') < 10;
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_xdigit(unsigned char c)
{
    return is_digit(c) || (unsigned char)((c | 0x20) - 'a') < 6;
}

static unsigned xdigit_value(unsigned char c)
{
    return is_digit(c) ? (unsigned)(c - '0')
                       : (unsigned)((c | 0x20) - 'a' + 10);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* -------------------------------------------------------------------- */
/* Adding tokens                                                         */

/*
 * Copies n bytes where n is mostly a word's length: a few moves instead
 * of a call to memcpy(), which costs more than such a copy itself.
 */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        if (n > 16) {
            memcpy(d, s, n);
            return;
        }
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n) {
        /* s holds n bytes; clang's analyzer gets here from word_done() with
         * a word of two characters and no bytes, which cannot be. */
        /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/*
 * Adds a whole token. Content tokens stop at the field's budget so that
 * its meta tokens, added last, always find room; meta tokens stop only
 * when the set is full.
 */
static inline bool may_add(tok *st, bool content)
{
    if (st->err)
        return false;
    if (content && st->ts->count >= st->stop) {
        st->ts->truncated = true;
        return false;
    }
    return true;
}

static void set_add(tok *st, const char *token, size_t len)
{
    if (rg__token_set_add(st->ts, token, len) == -2)
        st->err = RG_ENOMEM;
}

static inline void add_raw(tok *st, const char *token, size_t len, bool content)
{
    if (may_add(st, content))
        set_add(st, token, len);
}

/*
 * Adds prefix + kind + text, built in st->buf after the prefix that
 * field_start() put there. Past TOKEN_KEEP bytes the set would cut the
 * token anyway, so those bytes are not copied.
 */
static inline void add_token(tok *st, const char *kind, size_t kind_len,
                             const char *text, size_t len, bool content)
{
    size_t head = st->prefix_len + kind_len;
    if (!may_add(st, content))
        return;
    if (head == 0) {
        set_add(st, text, len);
        return;
    }
    if (len > TOKEN_KEEP - head)
        len = TOKEN_KEEP - head;
    memcpy(st->buf + st->prefix_len, kind, kind_len);
    copy_short(st->buf + head, text, len);
    set_add(st, st->buf, head + len);
}

/* The kind is always a string literal, so its length is known. */
#define ADD(st, kind, text, len, content)                                      \
    add_token(st, kind, sizeof(kind) - 1, text, len, content)
#define ADD_STR(st, kind, text, content)                                       \
    add_token(st, kind, sizeof(kind) - 1, text, strlen(text), content)
#define ADD_NUM(st, kind, n, content)                                          \
    add_number(st, kind, sizeof(kind) - 1, n, content)

static void add_number(tok *st, const char *kind, size_t kind_len, size_t n,
                       bool content)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    add_token(st, kind, kind_len, digits + i, sizeof digits - i, content);
}

static bool content_full(const tok *st)
{
    return st->err || st->ts->count >= st->stop;
}

/* -------------------------------------------------------------------- */
/* Phone numbers and bigrams                                             */

/*
 * Ends a run of digit groups. Nine to fifteen digits in all look like a
 * phone number (premium-rate numbers are a mark of SMS spam); the first
 * three digits say what kind of number it is (09 premium, 0800 free...).
 */
static void phone_flush(tok *st)
{
    if (st->phone_open && st->phone_digits >= PHONE_MIN &&
        st->phone_digits <= PHONE_MAX) {
        ADD(st, "num:phone", "", 0, true);
        if (st->phone_pre_len == sizeof st->phone_pre)
            ADD(st, "num:pre:", st->phone_pre, sizeof st->phone_pre, true);
    }
    st->phone_open = false;
}

/* Adds a group of digits to the current run, or starts a run. */
static void phone_digits(tok *st, const char *digits, size_t n)
{
    if (!st->phone_open || st->phone_gap > 3) {
        phone_flush(st);
        st->phone_open = true;
        st->phone_digits = 0;
        st->phone_pre_len = 0;
    }
    st->phone_digits += n;
    for (size_t i = 0; i < n && st->phone_pre_len < sizeof st->phone_pre; i++)
        st->phone_pre[st->phone_pre_len++] = digits[i];
    st->phone_gap = 0;
}

/* A separator that may sit inside a phone number: space - . ( ) / + */
static inline void phone_gap(tok *st)
{
    if (st->phone_open && ++st->phone_gap > 3)
        phone_flush(st);
}

/*
 * "bi:previous word", built where field_start() put the prefix and "bi:"
 * and the previous word was kept; only TOKEN_KEEP bytes of it matter.
 */
static void bigram(tok *st, const char *word, size_t len)
{
    size_t head = st->bi_head, keep = TOKEN_KEEP - head;
    if (st->prev_len) {
        size_t at = head + st->prev_len, total = at + 1 + len;
        if (at < TOKEN_KEEP) {
            st->bi[at] = ' ';
            copy_short(st->bi + at + 1, word,
                       len < TOKEN_KEEP - at - 1 ? len : TOKEN_KEEP - at - 1);
        }
        add_raw(st, st->bi, total < TOKEN_KEEP ? total : TOKEN_KEEP, true);
    }
    st->prev_len = len < keep ? len : keep;
    copy_short(st->bi + head, word, st->prev_len);
}

/* -------------------------------------------------------------------- */
/* Hosts, e-mail addresses and URLs                                      */

/* Characters of a host name; non-ASCII ones are those of an IDN. */
static bool host_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80;
}

static bool is_ip(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)h[i]) && h[i] != '.')
            return false;
    return n > 0;
}

/*
 * The registrable domain of a host ("shop.example.co.uk" ->
 * "example.co.uk") in buf, or NULL when it has none (an IP address, a
 * single label, a public suffix itself).
 */
static const char *registrable(const char *h, size_t n, char buf[256])
{
    const psl_ctx_t *psl = psl_builtin();
    if (!psl || n == 0 || n > 253 || is_ip(h, n))
        return NULL;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return psl_registrable_domain(psl, buf);
}

/* Cuts a host at its first invalid character and its trailing dots. */
static size_t host_len(const char *h, size_t n)
{
    size_t i = 0;
    while (i < n && host_char((unsigned char)h[i]))
        i++;
    while (i > 0 && (h[i - 1] == '.' || h[i - 1] == '-'))
        i--;
    return i;
}

/* The domain of an e-mail address; its local part never gets here. */
static void email(tok *st, const char *d, size_t n)
{
    char buf[256];
    n = host_len(d, n);
    st->prev_len = 0;
    if (n == 0 || content_full(st))
        return;
    size_t before = st->ts->count;
    ADD(st, "mail:", d, n, true);
    /* A domain seen before has its tokens: spare the suffix list. */
    if (st->ts->count == before)
        return;
    const char *reg = registrable(d, n, buf);
    if (reg)
        ADD_STR(st, "mail:dom:", reg, true);
}

static void host(tok *st, const char *h, size_t n)
{
    char buf[256];
    size_t before = st->ts->count;
    ADD(st, "host:", h, n, true);
    /* A host seen before has its tokens: spare the suffix list. */
    if (st->ts->count == before)
        return;
    if (is_ip(h, n)) {
        ADD(st, "url:ip", "", 0, true);
        return;
    }
    const char *reg = registrable(h, n, buf);
    if (!reg)
        return;
    ADD_STR(st, "dom:", reg, true);
    const char *dot = strchr(reg, '.');
    if (dot)
        ADD_STR(st, "tld:", dot + 1, true);
}

/* Words of a URL's path, query and fragment; %XX escapes separate them. */
static void path_words(tok *st, const char *s, size_t n)
{
    size_t i = 0, count = 0;
    while (i < n && count < PATH_WORDS_MAX) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && n - i > 2 && is_xdigit((unsigned char)s[i + 1]) &&
            is_xdigit((unsigned char)s[i + 2])) {
            i += 3;
            continue;
        }
        if (!is_alnum(c) && c < 0x80) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < n &&
               (is_alnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80))
            i++;
        if (i - start >= 2) {
            ADD(st, "path:", s + start, i - start, true);
            count++;
        }
    }
}

static bool scheme_char(unsigned char c)
{
    return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/*
 * Decomposes a URL (folded text) into its scheme, host, registrable
 * domain, public suffix and path words.
 */
static void url(tok *st, const char *s, size_t n, url_mode mode)
{
    size_t i = 0, k = 0;
    st->prev_len = 0;
    /* The public suffix list costs microseconds: not for nothing. */
    if (content_full(st))
        return;
    while (k < n && k <= 16 && scheme_char((unsigned char)s[k]))
        k++;
    bool scheme = k > 0 && k <= 16 && k < n && s[k] == ':' &&
                  is_alpha((unsigned char)s[0]);
    bool slashes = scheme && n - k >= 3 && s[k + 1] == '/' && s[k + 2] == '/';
    /* "example.com:8080" is a host and a port, not a scheme. */
    if (scheme && !slashes &&
        (memchr(s, '.', k) || (k + 1 < n && is_digit((unsigned char)s[k + 1]))))
        scheme = false;

    if (scheme) {
        ADD(st, "url:", s, k, true);
        if (!slashes) {
            /* mailto:, javascript:, tel:... have no host. */
            if (k == 6 && memcmp(s, "mailto", 6) == 0) {
                const char *q = memchr(s + k, '?', n - k);
                size_t end = q ? (size_t)(q - s) : n;
                const char *at = memrchr(s + k, '@', end - k);
                if (at)
                    email(st, at + 1, end - (size_t)(at + 1 - s));
            }
            return;
        }
        i = k + 3;
    } else if (n >= 2 && s[0] == '/' && s[1] == '/') {
        i = 2;
    } else if (n >= 4 && memcmp(s, "www.", 4) == 0) {
        ADD(st, "url:www", "", 0, true);
    } else if (mode == URL_BARE) {
        ADD(st, "url:bare", "", 0, true);
    } else if (mode != URL_FIELD) {
        /* A relative link: only its path says anything. */
        path_words(st, s, n);
        return;
    }

    size_t end = i;
    while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#' &&
           s[end] != '\\')
        end++;
    const char *at = memrchr(s + i, '@', end - i);
    if (at) {
        /* "http://bank.com@evil.example/": a trick; never keep the user. */
        ADD(st, "url:userinfo", "", 0, true);
        i = (size_t)(at + 1 - s);
    }
    size_t h = i, hn;
    if (h < end && s[h] == '[') {
        const char *close = memchr(s + h, ']', end - h);
        hn = close ? (size_t)(close + 1 - s) - h : end - h;
        ADD(st, "host:", s + h, hn, true);
        ADD(st, "url:ip", "", 0, true);
    } else {
        hn = host_len(s + h, end - h);
        if (hn)
            host(st, s + h, hn);
        else
            ADD(st, "url:nohost", "", 0, true);
    }
    const char *colon = memchr(s + h + hn, ':', end - h - hn);
    if (colon && colon + 1 < s + end && is_digit((unsigned char)colon[1]))
        ADD(st, "url:port", "", 0, true);
    path_words(st, s + end, n - end);
}

/* Trailing punctuation that ends a sentence, not a URL. */
static bool url_trail(char c)
{
    switch (c) {
    case '.':
    case ',':
    case ';':
    case ':':
    case '!':
    case '?':
    case ')':
    case ']':
    case '}':
    case '>':
    case '\'':
    case '"':
    case '*':
        return true;
    default:
        return false;
    }
}

static size_t trim_url(const char *s, size_t n)
{
    while (n > 0 && url_trail(s[n - 1]))
        n--;
    return n;
}

static void text_url(tok *st, const char *s, size_t n)
{
    n = trim_url(s, n);
    if (n == 0)
        return;
    /* <a href="X">X</a> is one link. */
    if (!(st->href_len == n && memcmp(st->href, s, n) == 0))
        st->links++;
    url(st, s, n, URL_TEXT);
}

/*
 * Where a URL starts in a piece of text, or n: at a scheme before "://",
 * or at "www." at the start or after a character that is not alphanumeric.
 * One pass: pieces are short, and memmem() costs more to set up.
 */
static size_t find_url(const char *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++) {
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            size_t j = i;
            while (j > 0 && i - j < 16 && scheme_char((unsigned char)p[j - 1]))
                j--;
            while (j < i && !is_alpha((unsigned char)p[j]))
                j++;
            if (j < i)
                return j;
        } else if (p[i] == 'w' && p[i + 1] == 'w' && p[i + 2] == 'w' &&
                   p[i + 3] == '.' &&
                   (i == 0 || !is_alnum((unsigned char)p[i - 1]))) {
            return i;
        }
    }
    return n;
}

/*
 * A piece like "example.com" or "(shop.example.net/x)": labels of ASCII
 * letters, digits and hyphens, the last one a top-level domain that the
 * public suffix list knows. Its words are tokens anyway, so a sentence
 * that lost its space ("fine.so") costs only a rare extra token.
 */
static void bare_host(tok *st, const char *p, size_t n)
{
    size_t i = 0;
    /* A heuristic, and each try asks the suffix list: a few per field. */
    if (content_full(st) || st->bare_tries >= BARE_TRIES_MAX)
        return;
    st->bare_tries++;
    while (i < n && (p[i] == '(' || p[i] == '[' || p[i] == '{' || p[i] == '<' ||
                     p[i] == '\'' || p[i] == '"'))
        i++;
    n = trim_url(p, n);
    if (i >= n)
        return;
    size_t end = i, dots = 0, label = i, last = i;
    for (; end < n; end++) {
        unsigned char c = (unsigned char)p[end];
        if (c == '/' || c == '?' || c == '#' || c == ':')
            break;
        if (c == '.') {
            if (end == label)
                return;
            dots++;
            label = end + 1;
            last = label;
        } else if (!is_alnum(c) && c != '-') {
            return;
        }
    }
    if (dots == 0 || end - last < 2 || end - last > 63)
        return;
    char tld[64];
    for (size_t j = last; j < end; j++) {
        if (!is_alpha((unsigned char)p[j]))
            return;
        tld[j - last] = p[j];
    }
    tld[end - last] = '\0';
    const psl_ctx_t *psl = psl_builtin();
    if (!psl ||
        !psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
        return;
    url(st, p + i, n - i, URL_BARE);
}

/* -------------------------------------------------------------------- */
/* Words                                                                 */

/*
 * Bytes of folded text by what run() and words() do with them: what ends
 * a piece, the bytes that make piece() look for addresses and URLs, and
 * ASCII letters, digits and the rest.
 */
enum {
    HAS_AT = 1,
    HAS_DOT = 2,
    HAS_COLON = 4,
    HAS_W = 8,
    PIECE_END = 16,
    HAS_LETTER = 32,
    HAS_DIGIT = 64,
    HAS_OTHER = 128,
    HAS_ALNUM = HAS_LETTER | HAS_DIGIT
};

#define E_ PIECE_END
#define A_ (HAS_AT | HAS_OTHER)
#define D_ (HAS_DOT | HAS_OTHER)
#define C_ (HAS_COLON | HAS_OTHER)
#define W_ (HAS_W | HAS_LETTER)
#define L_ HAS_LETTER
#define N_ HAS_DIGIT
#define O_ HAS_OTHER
/* clang-format off */
static const unsigned char char_class[256] = {
    O_, E_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* 00 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* 10 */
    E_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, D_, O_, /* 20 */
    N_, N_, N_, N_, N_, N_, N_, N_, N_, N_, C_, O_, O_, O_, O_, O_, /* 30 */
    A_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* 40 */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, O_, O_, O_, O_, O_, /* 50 */
    O_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* 60 */
    L_, L_, L_, L_, L_, L_, L_, W_, L_, L_, L_, O_, O_, O_, O_, O_, /* 70 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* 80 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* 90 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* a0 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* b0 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* c0 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* d0 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* e0 */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* f0 */
};
/* clang-format on */
#undef E_
#undef A_
#undef D_
#undef C_
#undef W_
#undef L_
#undef N_
#undef O_

/*
 * A word being read. It is a slice of the text, except that a ’ inside it
 * stands for ' (straighten() writes it so at the end).
 */
typedef struct word {
    const char *start; /* where it starts in the text */
    size_t chars;      /* code points */
    size_t digits;     /* ASCII digits */
    const uc_script_t *script;
    bool mixed;
    bool curly; /* it has a ’ */
} word;

static void word_clear(word *w)
{
    w->chars = w->digits = 0;
    w->script = NULL;
    w->mixed = w->curly = false;
}

/*
 * The word s[0..n) with each ’ written ', cut to PART_MAX bytes (the set
 * sees the word is too long and cuts it on a character boundary). A UTF-8
 * lead byte never occurs inside a character, so E2 80 99 is always a ’.
 */
static size_t straighten(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < PART_MAX;) {
        if ((unsigned char)s[i] == 0xe2 && n - i >= 3 &&
            (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] == 0x99) {
            out[o++] = '\'';
            i += 3;
        } else {
            out[o++] = s[i++];
        }
    }
    return o;
}

/*
 * Runs of 9 to 15 digits inside a word that is not only digits, like
 * "08452810075over18": a phone number with text glued on.
 */
static void digit_runs(tok *st, const char *text, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && is_digit((unsigned char)text[i])) {
            run++;
            continue;
        }
        if (run >= PHONE_MIN && run <= PHONE_MAX) {
            ADD(st, "num:phone", "", 0, true);
            ADD(st, "num:pre:", text + i - run, 3, true);
        }
        run = 0;
    }
}

/* Adds a script to those of the field, which keeps at most three. */
static void script_list(tok *st, const uc_script_t *sc)
{
    size_t i = 0;
    while (i < st->nscripts && st->scripts[i] != sc)
        i++;
    if (i == st->nscripts) {
        if (st->nscripts == sizeof st->scripts / sizeof st->scripts[0])
            return;
        st->scripts[st->nscripts++] = sc;
    }
    if (sc == script_latin)
        st->latin_listed = true;
}

static void script_seen(tok *st, word *w, const uc_script_t *sc)
{
    if (!sc || sc == script_common || sc == script_inherited)
        return;
    /* Japanese and Korean mix these scripts in one word by design. */
    if (sc == script_hiragana || sc == script_katakana || sc == script_hangul ||
        sc == script_bopomofo)
        sc = script_han;
    if (!w->script)
        w->script = sc;
    else if (w->script != sc)
        w->mixed = true;
    script_list(st, sc);
}

/* script_seen() for ASCII letters, in a word not yet known to be Latin. */
static inline void latin_seen(tok *st, word *w)
{
    if (!w->script)
        w->script = script_latin;
    else
        w->mixed = true;
    if (!st->latin_listed)
        script_list(st, script_latin);
}

/*
 * The first PREFIX_CHARS characters of a longer word, as a token of its
 * own: a light stemming that lets "subscribe", "subscribed", "subscribers"
 * (and misspellings such as "subscrible") share evidence. On the YouTube
 * corpus it lifted spam recall at an unchanged false-positive rate.
 */
#define PREFIX_CHARS 5

static size_t prefix_bytes(const char *text, size_t len)
{
    size_t chars = 0, i = 0;
    for (; i < len; i++) {
        /* A character starts at every byte that is not 10xxxxxx. */
        if (((unsigned char)text[i] & 0xc0) != 0x80 && chars++ == PREFIX_CHARS)
            break;
    }
    return i;
}

/*
 * The tokens of a word of `chars` characters, text[0..len) with len at
 * most PART_MAX; a number is ASCII digits only. Its runs of digits have
 * been looked at.
 */
static void word_tokens(tok *st, const char *text, size_t len, size_t chars,
                        bool ascii, bool number)
{
    if (chars >= 2) {
        ADD(st, "", text, len, true);
        if (!number && chars > PREFIX_CHARS)
            ADD(st, "pre:", text,
                ascii ? PREFIX_CHARS : prefix_bytes(text, len), true);
        if (number)
            ADD_NUM(st, "num:len", chars < 12 ? chars : 12, true);
        if (bigrams_enabled)
            bigram(st, text, len);
    }
    if (number)
        phone_digits(st, text, len);
    else if (st->phone_open)
        phone_flush(st);
}

/* The word that ends at end: its tokens. */
static void word_done(tok *st, word *w, const char *end)
{
    char buf[PART_MAX];
    const char *text = w->start;
    size_t raw = (size_t)(end - text), len = raw < PART_MAX ? raw : PART_MAX;
    if (w->curly) {
        len = straighten(buf, text, raw);
        text = buf;
    }
    bool number = w->digits == w->chars;
    if (!number && w->digits >= PHONE_MIN)
        digit_runs(st, text, len);
    /* A word of as many bytes as characters is ASCII. */
    word_tokens(st, text, len, w->chars, raw == w->chars, number);
    if (w->mixed)
        st->mixed++;
    word_clear(w);
}

static inline void word_end(tok *st, word *w, const char *end)
{
    if (w->chars)
        word_done(st, w, end);
}

/*
 * words() for a piece of ASCII letters and digits only (has says which),
 * the most common piece by far: one word, and a Latin one if it has a
 * letter.
 */
static void plain_word(tok *st, const char *p, size_t n, unsigned has)
{
    size_t len = n < PART_MAX ? n : PART_MAX;
    bool number = !(has & HAS_LETTER);
    if (!number) {
        if (!st->latin_listed)
            script_list(st, script_latin);
        /* Runs of 9 digits need 10 bytes with a letter. */
        if ((has & HAS_DIGIT) && n > PHONE_MIN)
            digit_runs(st, p, len);
    }
    word_tokens(st, p, len, n, true, number);
}

static void punct_run(tok *st, char c, size_t run)
{
    char buf[3] = {c, c, c};
    if (run >= 2)
        ADD(st, "p:", buf, run >= 3 ? 3 : 2, true);
}

/* The class of a code point inside a word. */
typedef enum wclass { W_LETTER, W_DIGIT, W_NUMBER, W_MARK, W_OTHER } wclass;

static wclass word_class(ucs4_t cp, uint32_t *cat)
{
    if (cp < 0x80) {
        *cat = 0;
        if (is_alpha((unsigned char)cp))
            return W_LETTER;
        return is_digit((unsigned char)cp) ? W_DIGIT : W_OTHER;
    }
    *cat = uc_general_category(cp).bitmask;
    if (*cat & UC_CATEGORY_MASK_L)
        return W_LETTER;
    if (*cat & UC_CATEGORY_MASK_N)
        return W_NUMBER;
    return *cat & UC_CATEGORY_MASK_M ? W_MARK : W_OTHER;
}

/* A symbol: currency signs (with "num:money" next to a digit) and more. */
static void symbol(tok *st, const char *s, size_t n, size_t i, size_t len,
                   ucs4_t cp, uint32_t cat, bool after_digit)
{
    if (cp == '$' || (cat & UC_CATEGORY_MASK_Sc)) {
        ADD(st, "sym:", s + i, len, true);
        if (after_digit || (i + len < n && is_digit((unsigned char)s[i + len])))
            ADD(st, "num:money", "", 0, true);
    } else if (cp == '%' || (cat & UC_CATEGORY_MASK_So)) {
        ADD(st, "sym:", s + i, len, true);
    }
}

/*
 * Splits folded text into words at every character that is not a letter,
 * digit or (inside a word) a combining mark; an apostrophe between letters
 * stays ("don't"). Symbols and runs of ! and ? become tokens of their own.
 */
static void words(tok *st, const char *s, size_t n)
{
    word w;
    size_t bangs = 0, quests = 0;
    bool after_digit = false;
    word_clear(&w);
    for (size_t i = 0; i < n;) {
        ucs4_t cp = (unsigned char)s[i];
        int len = 1;
        uint32_t cat;
        if (char_class[cp] & HAS_ALNUM) {
            /* A run of ASCII letters and digits, the common case, whole. */
            size_t j = i, digits = 0;
            unsigned cl = char_class[cp];
            if (bangs | quests) {
                punct_run(st, '!', bangs);
                punct_run(st, '?', quests);
                bangs = quests = 0;
            }
            do {
                digits += (cl & HAS_DIGIT) != 0;
            } while (++j < n &&
                     ((cl = char_class[(unsigned char)s[j]]) & HAS_ALNUM));
            if (digits < j - i && w.script != script_latin)
                latin_seen(st, &w);
            if (!w.chars)
                w.start = s + i;
            w.chars += j - i;
            w.digits += digits;
            after_digit = is_digit((unsigned char)s[j - 1]);
            i = j;
            continue;
        }
        if (cp != '!' && bangs) {
            punct_run(st, '!', bangs);
            bangs = 0;
        }
        if (cp != '?' && quests) {
            punct_run(st, '?', quests);
            quests = 0;
        }
        if (cp >= 0x80)
            len = u8_mbtouc_unsafe(&cp, (const uint8_t *)s + i, n - i);
        wclass wc = word_class(cp, &cat);
        if (wc == W_LETTER || wc == W_NUMBER || (wc == W_MARK && w.chars)) {
            if (wc == W_LETTER)
                script_seen(st, &w, uc_script(cp));
            if (!w.chars)
                w.start = s + i;
            w.chars++;
        } else if ((cp == '\'' || cp == 0x2019) && w.chars && w.digits == 0 &&
                   i + (size_t)len < n) {
            /* Inside a word only: "don't", "it’s". */
            ucs4_t next = (unsigned char)s[i + (size_t)len];
            uint32_t next_cat;
            if (next >= 0x80)
                u8_mbtouc_unsafe(&next, (const uint8_t *)s + i + len,
                                 n - i - (size_t)len);
            if (word_class(next, &next_cat) == W_LETTER) {
                w.chars++;
                w.curly |= cp == 0x2019;
            } else {
                word_end(st, &w, s + i);
            }
        } else {
            word_end(st, &w, s + i);
            if (cp == '!')
                bangs++;
            else if (cp == '?')
                quests++;
            symbol(st, s, n, i, (size_t)len, cp, cat, after_digit);
            if (cp == '-' || cp == '.' || cp == '(' || cp == ')' || cp == '/' ||
                cp == '+')
                phone_gap(st);
            else
                phone_flush(st);
        }
        after_digit = false;
        i += (size_t)len;
    }
    word_end(st, &w, s + n);
    punct_run(st, '!', bangs);
    punct_run(st, '?', quests);
}

/* Local parts of e-mail addresses, and their domains. */
static bool local_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || c == '.' || c == '_' || c == '%' ||
           c == '+' || c == '-';
}

/*
 * One piece of folded text without spaces: e-mail addresses (whose local
 * part is dropped, for privacy), a URL, or words.
 */
static void piece(tok *st, const char *p, size_t n, unsigned has)
{
    bool maybe_url =
        (has & HAS_COLON) || (has & (HAS_W | HAS_DOT)) == (HAS_W | HAS_DOT);
    size_t u = maybe_url ? find_url(p, n) : n;
    size_t i = 0;
    while ((has & HAS_AT) && i < u) {
        const char *at = memchr(p + i, '@', u - i);
        if (!at)
            break;
        size_t a = (size_t)(at - p), local = a, end = a + 1;
        while (local > i && local_char((unsigned char)p[local - 1]))
            local--;
        while (end < u && host_char((unsigned char)p[end]))
            end++;
        if (local < a && end > a + 1) {
            words(st, p + i, local - i);
            phone_flush(st);
            email(st, p + a + 1, end - a - 1);
            i = end;
        } else {
            /* Not an address: "@name", "me@". */
            words(st, p + i, a + 1 - i);
            i = a + 1;
        }
    }
    words(st, p + i, u - i);
    if (u < n) {
        phone_flush(st);
        text_url(st, p + u, n - u);
    } else if ((has & (HAS_AT | HAS_DOT)) == HAS_DOT) {
        bare_host(st, p, n);
    }
}

/* A piece, with what its bytes have: to the cheapest reader that can. */
static inline void take_piece(tok *st, const char *p, size_t n, unsigned has)
{
    /* Most pieces are one plain word, and most others only words. */
    if (!(has & HAS_OTHER))
        plain_word(st, p, n, has);
    else if (has & (HAS_AT | HAS_DOT | HAS_COLON))
        piece(st, p, n, has);
    else
        words(st, p, n);
}

/* Folded text: pieces between spaces (or marks, in unfolded text). */
static void run(tok *st, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == ' ' || s[i] == SLOW_MARK) {
            phone_gap(st);
            i++;
            continue;
        }
        size_t end = i;
        unsigned has = 0, f;
        while (end < n &&
               !((f = char_class[(unsigned char)s[end]]) & PIECE_END)) {
            has |= f;
            end++;
        }
        take_piece(st, s + i, end - i, has);
        i = end;
    }
}

/* -------------------------------------------------------------------- */
/* Decoding: bytes to text                                               */

/*
 * The NFKC case fold of a code point when it is one code point and needs
 * no context, or 0 when the code point has to go through u8_casefold().
 * A code point qualifies when NFKC keeps it (it has no decomposition, or
 * a canonical one that composes back to it), it cannot combine with a
 * neighbour (no marks, no conjoining jamo), and its case fold is its lower
 * case. The test suite checks this against u8_casefold() for every code
 * point, so a new Unicode version cannot make it wrong unnoticed.
 */
static ucs4_t fold_char(ucs4_t cp, uint32_t cat, int depth)
{
    ucs4_t d[UC_DECOMPOSITION_MAX_LENGTH];
    int tag;
    if (depth > 4 ||
        (cat & (UC_CATEGORY_MASK_M | UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cf |
                UC_CATEGORY_MASK_Cs | UC_CATEGORY_MASK_Z)))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) ||
        (cp >= 0xd7b0 && cp <= 0xd7ff))
        return 0;
    int n = uc_decomposition(cp, &tag, d);
    if (n < 0) {
        if (!uc_is_property_changes_when_casefolded(cp))
            return cp;
        /* ß, ς and friends fold to something else than their lower case. */
        if (!uc_is_property_changes_when_lowercased(cp))
            return 0;
        ucs4_t lower = uc_tolower(cp);
        uint32_t lower_cat = uc_general_category(lower).bitmask;
        return fold_char(lower, lower_cat, depth + 1) == lower ? lower : 0;
    }
    if (tag != UC_DECOMP_CANONICAL || n != 2 ||
        uc_composition(d[0], d[1]) != cp ||
        uc_is_property_changes_when_casefolded(d[1]))
        return 0;
    ucs4_t base = fold_char(d[0], uc_general_category(d[0]).bitmask, depth + 1);
    if (base == 0)
        return 0;
    return base == d[0] ? cp : uc_composition(base, d[1]);
}

static void cap_break(tok *st);

static void put_space(dec *d, tok *st)
{
    d->out[d->len++] = ' ';
    d->seg_start = d->len;
    d->seg_marked = false;
    if (d->stats) {
        st->chars++;
        cap_break(st);
    }
}

/* Leaves the current segment for u8_casefold(). */
static void mark_segment(dec *d)
{
    d->any_marked = true;
    if (d->seg_marked)
        return;
    d->seg_marked = true;
    if (d->seg_start == 0)
        d->first_marked = true;
    else
        d->out[d->seg_start - 1] = SLOW_MARK;
}

/* The end of a word for the count of words in capitals. */
static void cap_break(tok *st)
{
    if (st->word_upper >= 3 && st->word_lower == 0)
        st->capwords++;
    st->word_upper = st->word_lower = 0;
}

static void put_ascii(dec *d, tok *st, unsigned char c)
{
    if (c <= ' ' || c == 0x7f) {
        put_space(d, st);
        return;
    }
    if (d->stats) {
        st->chars++;
        if (c >= 'A' && c <= 'Z') {
            st->upper++;
            st->word_upper++;
        } else if (c >= 'a' && c <= 'z') {
            st->lower++;
            st->word_lower++;
        } else {
            cap_break(st);
        }
    }
    if (c >= 'A' && c <= 'Z')
        c |= 0x20;
    d->out[d->len++] = (char)c;
}

/*
 * A code point of the text. Invisible ones (format characters and other
 * default-ignorable code points) are dropped, but counted: they hide
 * words from filters. Variation selectors are not counted, as every emoji
 * may carry one.
 */
static void put_cp(dec *d, tok *st, ucs4_t cp)
{
    if (cp < 0x80) {
        put_ascii(d, st, (unsigned char)cp);
        return;
    }
    uint32_t cat = uc_general_category(cp).bitmask;
    if ((cat & UC_CATEGORY_MASK_Cf) ||
        uc_is_property_default_ignorable_code_point(cp)) {
        if (!(cat & UC_CATEGORY_MASK_M))
            st->invisible++;
        return;
    }
    if (cat & (UC_CATEGORY_MASK_Z | UC_CATEGORY_MASK_Cc)) {
        put_space(d, st);
        return;
    }
    if (d->stats) {
        st->chars++;
        if (cat & (UC_CATEGORY_MASK_Lu | UC_CATEGORY_MASK_Lt)) {
            st->upper++;
            st->word_upper++;
        } else if (cat & UC_CATEGORY_MASK_Ll) {
            st->lower++;
            st->word_lower++;
        } else if (!(cat & (UC_CATEGORY_MASK_L | UC_CATEGORY_MASK_M))) {
            cap_break(st);
        }
    }
    ucs4_t folded = fold_char(cp, cat, 0);
    if (folded == 0) {
        mark_segment(d);
        folded = cp;
    }
    d->len += (size_t)u8_uctomb((uint8_t *)d->out + d->len, folded, 4);
}

static void put_bad_byte(dec *d, tok *st, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char h[2] = {hex[c >> 4], hex[c & 15]};
    uint32_t bit = UINT32_C(1) << (c & 31);
    st->bad++;
    /* Each byte once, without asking the set a million times. */
    if (!(st->bad_seen[(c >> 5) & 3] & bit)) {
        st->bad_seen[(c >> 5) & 3] |= bit;
        ADD(st, "bad:", h, 2, true);
    }
    put_space(d, st);
}

static const struct {
    char name[7];
    uint16_t cp;
} entities[] = {
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xa0},    {"shy", 0xad},      {"copy", 0xa9},
    {"reg", 0xae},     {"trade", 0x2122}, {"hellip", 0x2026}, {"ndash", 0x2013},
    {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201c},
    {"rdquo", 0x201d}, {"laquo", 0xab},   {"raquo", 0xbb},    {"bull", 0x2022},
    {"middot", 0xb7},  {"euro", 0x20ac},  {"pound", 0xa3},    {"yen", 0xa5},
    {"cent", 0xa2},    {"deg", 0xb0},     {"times", 0xd7},    {"zwj", 0x200d},
    {"zwnj", 0x200c},  {"lrm", 0x200e},   {"rlm", 0x200f},
};

/*
 * The character reference at s[i] == '&': its length, with the character
 * in *cp, or 0 when it is none. Numeric ones need no ';' (as in browsers);
 * named ones do, and only the common names are known.
 */
static size_t entity(const char *s, size_t n, size_t i, ucs4_t *cp)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        bool hex = ++j < n && (s[j] == 'x' || s[j] == 'X');
        if (hex)
            j++;
        size_t start = j;
        uint32_t v = 0;
        while (j < n && (hex ? is_xdigit((unsigned char)s[j])
                             : is_digit((unsigned char)s[j]))) {
            if (v <= 0x10ffff)
                v = v * (hex ? 16 : 10) + xdigit_value((unsigned char)s[j]);
            j++;
        }
        if (j == start)
            return 0;
        if (j < n && s[j] == ';')
            j++;
        if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            v = 0xfffd;
        *cp = v;
        return j - i;
    }
    size_t k = j;
    while (k < n && k - j < 7 && is_alnum((unsigned char)s[k]))
        k++;
    if (k == j || k >= n || s[k] != ';')
        return 0;
    for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++) {
        if (strlen(entities[e].name) == k - j &&
            memcmp(entities[e].name, s + j, k - j) == 0) {
            *cp = entities[e].cp;
            return k + 1 - i;
        }
    }
    return 0;
}

/* The first '>' at or after from, or n; remembered, so scans stay linear. */
static size_t next_gt(dec *d, const char *s, size_t n, size_t from)
{
    if (d->gt_known && d->gt >= from)
        return d->gt;
    const char *gt = memchr(s + from, '>', n - from);
    d->gt = gt ? (size_t)(gt - s) : n;
    d->gt_known = true;
    return d->gt;
}

/* Tags that do not separate words when rendered: "V<b>i</b>agra". */
static bool inline_tag(const char *name, size_t n)
{
    static const char *const names[] = {
        "a", "abbr",  "b",    "big",    "em",     "font", "i",   "mark",
        "s", "small", "span", "strike", "strong", "sub",  "sup", "u"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
            return true;
    return false;
}

static void decode(tok *st, dec *d, const char *s, size_t n);

/*
 * Folds text that decode() left partly unfolded, marks and all. Returns
 * the folded text, in buf or in memory the caller frees (*owned); NULL
 * when out of memory.
 */
static const char *fold_text(char *text, size_t n, char *buf, size_t size,
                             size_t *len, uint8_t **owned)
{
    for (size_t i = 0; i < n; i++)
        if (text[i] == SLOW_MARK)
            text[i] = ' ';
    size_t flen = size;
    uint8_t *r = u8_casefold((const uint8_t *)text, n, NULL, UNINORM_NFKC,
                             (uint8_t *)buf, &flen);
    *owned = r && r != (uint8_t *)buf ? r : NULL;
    *len = flen;
    return (const char *)r;
}

/*
 * A link target (href or src), decoded, folded and tokenized as a URL.
 * Only href counts as a link.
 */
static void link_target(tok *st, const char *v, size_t n, bool href)
{
    char text[TAG_MAX + TAG_MAX / 2 + 8], buf[STACK_TEXT];
    dec d = {.out = text, .entities = true};
    if (content_full(st)) {
        st->links += href;
        return;
    }
    decode(st, &d, v, n);
    size_t i = 0, len = d.len;
    /* cppcheck-suppress uninitvar ; decode() wrote text[0, d.len) through
     * d.out. */
    while (i < len && (text[i] == ' ' || text[i] == SLOW_MARK))
        i++;
    while (len > i && (text[len - 1] == ' ' || text[len - 1] == SLOW_MARK))
        len--;
    if (i == len)
        return;
    const char *t = text + i;
    uint8_t *owned = NULL;
    len -= i;
    if (d.any_marked) {
        t = fold_text(text + i, len, buf, sizeof buf, &len, &owned);
        if (!t) {
            st->err = RG_ENOMEM;
            return;
        }
    }
    if (href) {
        st->links++;
        st->href_len = len <= sizeof st->href ? len : 0;
        memcpy(st->href, t, st->href_len);
    }
    url(st, t, len, URL_HREF);
    free(owned);
}

/* The attributes of a start tag: link targets are all we keep. */
static void attributes(tok *st, const char *a, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_space((unsigned char)a[i]) || a[i] == '/'))
            i++;
        size_t name = i;
        while (i < n && !is_space((unsigned char)a[i]) && a[i] != '=' &&
               a[i] != '/')
            i++;
        size_t name_len = i - name;
        while (i < n && is_space((unsigned char)a[i]))
            i++;
        if (i >= n || a[i] != '=') {
            if (name_len == 0 && i < n)
                i++;
            continue;
        }
        i++;
        while (i < n && is_space((unsigned char)a[i]))
            i++;
        size_t value = i, value_len;
        if (i < n && (a[i] == '"' || a[i] == '\'')) {
            const char *close = memchr(a + i + 1, a[i], n - i - 1);
            value = i + 1;
            i = close ? (size_t)(close - a) : n;
            value_len = i - value;
            if (close)
                i++;
        } else {
            while (i < n && !is_space((unsigned char)a[i]))
                i++;
            value_len = i - value;
        }
        bool href = name_len == 4 && strncasecmp(a + name, "href", 4) == 0;
        if (href || (name_len == 3 && strncasecmp(a + name, "src", 3) == 0))
            link_target(st, a + value, value_len, href);
    }
}

/* Skips the text of a <script> or <style> up to its end tag. */
static size_t skip_raw_text(dec *d, const char *s, size_t n, size_t from,
                            const char *name, size_t len)
{
    while (from < n) {
        const char *lt = memchr(s + from, '<', n - from);
        if (!lt)
            break;
        size_t i = (size_t)(lt - s);
        if (n - i >= len + 2 && s[i + 1] == '/' &&
            strncasecmp(s + i + 2, name, len) == 0) {
            size_t gt = next_gt(d, s, n, i);
            return gt < n ? gt + 1 : n;
        }
        from = i + 1;
    }
    return n;
}

/*
 * The markup at s[i] == '<': a tag, comment, doctype or processing
 * instruction. Returns the index just past it, or i when the '<' is text:
 * not followed by a name, or with no '>' within TAG_MAX bytes. As in a
 * browser, an unterminated comment or script runs to the end.
 */
static size_t markup(tok *st, dec *d, const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j >= n)
        return i;
    if (n - j >= 3 && memcmp(s + j, "!--", 3) == 0) {
        const char *end = memmem(s + j + 3, n - j - 3, "-->", 3);
        ADD(st, "html:comment", "", 0, true);
        put_space(d, st);
        return end ? (size_t)(end - s) + 3 : n;
    }
    bool closing = s[j] == '/';
    bool other = s[j] == '!' || s[j] == '?';
    size_t k = closing ? j + 1 : j;
    if (!other && !(k < n && is_alpha((unsigned char)s[k])))
        return i;
    size_t gt = next_gt(d, s, n, j);
    if (gt >= n || gt - i > TAG_MAX)
        return i;
    if (other)
        return gt + 1;

    char name[16];
    size_t len = 0;
    for (; k < gt && is_alnum((unsigned char)s[k]); k++)
        if (len < sizeof name)
            name[len++] = (char)(s[k] | 0x20);
        else
            len = sizeof name + 1;
    if (len > sizeof name)
        len = 0;
    if (len == 0 || !inline_tag(name, len))
        put_space(d, st);
    if (closing)
        return gt + 1;
    if (len)
        ADD(st, "html:", name, len, true);
    attributes(st, s + k, gt - k);
    bool raw = (len == 6 && memcmp(name, "script", 6) == 0) ||
               (len == 5 && memcmp(name, "style", 5) == 0);
    if (raw && s[gt - 1] != '/')
        return skip_raw_text(d, s, n, gt + 1, name, len);
    return gt + 1;
}

/*
 * A run of ASCII other than markup, the common case: lower-cased and
 * counted in local variables, which stay in registers (a store through a
 * char pointer could alias any field). Whitespace and controls become
 * spaces, as put_ascii() makes them. Returns where the run ends.
 */
static size_t plain_ascii(tok *st, dec *d, const uint8_t *u, size_t n, size_t i)
{
    char *out = d->out + d->len, *seg = NULL;
    size_t start = i, upper = 0, lower = 0, capwords = 0;
    size_t word_upper = st->word_upper, word_lower = st->word_lower;
    for (; i < n; i++) {
        unsigned char c = u[i];
        if ((unsigned char)(c - 'a') < 26) {
            lower++;
            word_lower++;
        } else if (c <= ' ' || c == 0x7f) {
            capwords += word_upper >= 3 && word_lower == 0;
            word_upper = word_lower = 0;
            c = ' ';
            seg = out + 1;
        } else if ((unsigned char)(c - 'A') < 26) {
            upper++;
            word_upper++;
            c |= 0x20;
        } else if (c >= 0x80 || c == '<' || c == '&') {
            break;
        } else {
            capwords += word_upper >= 3 && word_lower == 0;
            word_upper = word_lower = 0;
        }
        *out++ = (char)c;
    }
    d->len += i - start;
    if (seg) {
        /* As put_space() does: a new segment starts after the space. */
        d->seg_start = (size_t)(seg - d->out);
        d->seg_marked = false;
    }
    if (d->stats) {
        st->chars += i - start;
        st->upper += upper;
        st->lower += lower;
        st->capwords += capwords;
        st->word_upper = word_upper;
        st->word_lower = word_lower;
    }
    return i;
}

/*
 * Bytes to text, into d->out (room for 3/2 of n, plus 8: a few
 * characters lower-case to a longer sequence, like U+023A to U+2C65).
 */
static void decode(tok *st, dec *d, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c < 0x80 && c != '<' && c != '&') {
            i = plain_ascii(st, d, u, n, i);
            continue;
        }
        if (c < 0x80) {
            ucs4_t cp;
            size_t len;
            if (c == '<' && d->tags) {
                size_t next = markup(st, d, s, n, i);
                if (next != i) {
                    i = next;
                    continue;
                }
            } else if (c == '&' && d->entities &&
                       (len = entity(s, n, i, &cp)) > 0) {
                put_cp(d, st, cp);
                i += len;
                continue;
            }
            put_ascii(d, st, c);
            i++;
            continue;
        }
        ucs4_t cp;
        int len = u8_mbtoucr(&cp, u + i, n - i);
        if (len < 0) {
            put_bad_byte(d, st, c);
            i++;
            continue;
        }
        put_cp(d, st, cp);
        i += (size_t)len;
    }
    if (d->stats)
        cap_break(st);
}

/*
 * Decoded text to pieces. Unmarked stretches are ready; a run of marked
 * segments is folded in one u8_casefold() call.
 */
static void split_text(tok *st, dec *d)
{
    char buf[STACK_TEXT];
    char *text = d->out;
    size_t n = d->len, i = 0;
    bool slow = d->first_marked;
    if (!d->any_marked) {
        /* No marks: the common case, all of it ready. */
        run(st, text, n);
        return;
    }
    while (i < n) {
        size_t end;
        if (slow) {
            const char *sp = memchr(text + i, ' ', n - i);
            end = sp ? (size_t)(sp - text) : n;
            if (content_full(st) || end - i > st->fold_budget) {
                /*
                 * Folding is the costly part. Once no token fits, the
                 * statistics are all that is left, and they come out the
                 * same from unfolded text; and a hostile comment does not
                 * get more than FOLD_MAX bytes folded.
                 */
                run(st, text + i, end - i);
            } else {
                st->fold_budget -= end - i;
                size_t len;
                uint8_t *owned;
                const char *f =
                    fold_text(text + i, end - i, buf, sizeof buf, &len, &owned);
                if (!f) {
                    st->err = RG_ENOMEM;
                    return;
                }
                run(st, f, len);
                free(owned);
            }
        } else {
            const char *mark = memchr(text + i, SLOW_MARK, n - i);
            end = mark ? (size_t)(mark - text) : n;
            run(st, text + i, end - i);
        }
        if (end >= n)
            break;
        phone_gap(st);
        slow = text[end] == SLOW_MARK;
        i = end + 1;
    }
}

/*
 * True when s[0..n) has no markup, character reference or non-ASCII byte,
 * as most comments. It looks at 8 bytes at a time: the test is all the
 * work there is.
 */
static bool plain_only(const char *s, size_t n)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, lt, amp;
        memcpy(&x, s + i, 8);
        lt = x ^ (ones * '<');
        amp = x ^ (ones * '&');
        /* (v - ones) & ~v has the high bit of each zero byte of v set. */
        if ((x | ((lt - ones) & ~lt) | ((amp - ones) & ~amp)) & high)
            return false;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || c == '<' || c == '&')
            return false;
    }
    return true;
}

/*
 * decode() and split_text() for a text field that plain_only() accepts,
 * in one pass. decode() would only lower-case such text, turn whitespace
 * and controls into spaces and count it, and split_text() would take the
 * pieces between the spaces in order; neither adds a token of its own.
 * So each piece is lower-cased into out, counted and taken at once.
 */
static void plain_text(tok *st, const char *s, size_t n, char *out)
{
    size_t i = 0, upper = 0, lower = 0, capwords = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f) {
            phone_gap(st);
            i++;
            continue;
        }
        /* Capitals are counted by runs of letters, as put_ascii() does. */
        size_t start = i, run_upper = 0, run_lower = 0;
        unsigned has = 0;
        do {
            if ((unsigned char)(c - 'a') < 26) {
                run_lower++;
            } else if ((unsigned char)(c - 'A') < 26) {
                run_upper++;
                c |= 0x20;
            } else {
                capwords += run_upper >= 3 && run_lower == 0;
                upper += run_upper;
                lower += run_lower;
                run_upper = run_lower = 0;
            }
            has |= char_class[c];
            out[i] = (char)c;
        } while (++i < n && (c = (unsigned char)s[i]) > ' ' && c != 0x7f);
        capwords += run_upper >= 3 && run_lower == 0;
        upper += run_upper;
        lower += run_lower;
        take_piece(st, out + start, i - start, has);
    }
    st->chars += n;
    st->upper += upper;
    st->lower += lower;
    st->capwords += capwords;
}

/* -------------------------------------------------------------------- */
/* Fields                                                                */

/* About 2 log2(n) + 1: half-octave steps, so 60 and 100 differ. */
static unsigned len_bucket(size_t n)
{
    unsigned bits = 0;
    if (n == 0)
        return 0;
    while ((n >> bits) > 1)
        bits++;
    unsigned half = bits ? (unsigned)(n >> (bits - 1)) & 1 : 0;
    return 2 * bits + half + 1;
}

static void common_meta(tok *st)
{
    size_t inv = st->invisible;
    if (inv) {
        ADD(st, "meta:invisible", "", 0, false);
        if (inv >= 8)
            ADD(st, "meta:invisible:8+", "", 0, false);
        else if (inv >= 4)
            ADD(st, "meta:invisible:4+", "", 0, false);
        else if (inv >= 2)
            ADD(st, "meta:invisible:2+", "", 0, false);
        else
            ADD(st, "meta:invisible:1", "", 0, false);
    }
    if (st->bad)
        ADD(st, "meta:bad-utf8", "", 0, false);
}

/* A meta token ending in a count: "0", "1", "2" or "3+". */
static void add_count(tok *st, const char *kind, size_t kind_len, size_t n)
{
    static const char counts[][3] = {"0", "1", "2", "3+"};
    n = n < 3 ? n : 3;
    /* cppcheck-suppress knownConditionTrueFalse ; n is 3 for "3+". */
    add_token(st, kind, kind_len, counts[n], n < 3 ? 1 : 2, false);
}

#define ADD_COUNT(st, kind, n) add_count(st, kind, sizeof(kind) - 1, n)

static void text_meta(tok *st)
{
    size_t cased = st->upper + st->lower;
    phone_flush(st);
    ADD_NUM(st, "meta:len:", len_bucket(st->chars), false);
    ADD_COUNT(st, "meta:links:", st->links);
    if (cased >= 4) {
        if (st->upper == 0)
            ADD(st, "meta:caps:none", "", 0, false);
        else if (st->upper * 4 < cased)
            ADD(st, "meta:caps:low", "", 0, false);
        else if (st->upper * 5 < cased * 3)
            ADD(st, "meta:caps:mid", "", 0, false);
        else
            ADD(st, "meta:caps:high", "", 0, false);
    }
    if (st->capwords)
        ADD_COUNT(st, "meta:capwords:", st->capwords);
    /* One script is the rule, and a token in every comment says nothing. */
    if (st->nscripts >= 2)
        ADD_COUNT(st, "meta:scripts:", st->nscripts);
    if (st->mixed >= 2)
        ADD(st, "meta:mixed:2+", "", 0, false);
    else if (st->mixed)
        ADD(st, "meta:mixed:1", "", 0, false);
    common_meta(st);
}

static void field_start(tok *st, const char *prefix, size_t budget)
{
    size_t count = st->ts->count;
    st->prefix_len = strlen(prefix);
    st->stop = count >= st->content_max           ? count
               : budget < st->content_max - count ? count + budget
                                                  : st->content_max;
    st->chars = st->upper = st->lower = st->word_upper = st->word_lower = 0;
    st->capwords = st->invisible = st->bad = st->links = st->mixed = 0;
    st->bare_tries = 0;
    memset(st->bad_seen, 0, sizeof st->bad_seen);
    st->nscripts = 0;
    st->phone_open = false;
    st->href_len = st->prev_len = 0;
    st->latin_listed = false;
    copy_short(st->buf, prefix, st->prefix_len);
    copy_short(st->bi, prefix, st->prefix_len);
    memcpy(st->bi + st->prefix_len, "bi:", 3);
    st->bi_head = st->prefix_len + 3;
}

/* The length of a field read up to max bytes, cut on a character start. */
static size_t field_len(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == max)
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    return n;
}

/*
 * Starts a field and makes room for decode() to write its text into:
 * `stack` (of STACK_TEXT bytes) when it fits, else allocated (free it when
 * it is not `stack`). NULL when the field has no text (its "meta:none"
 * token is added: no statistics either, so no other token) or memory runs
 * out (st->err set); otherwise the text's length is in *n.
 */
static char *field_open(tok *st, const char *prefix, const char *s, size_t max,
                        size_t budget, char *stack, size_t *n)
{
    field_start(st, prefix, budget);
    *n = s ? field_len(s, max) : 0;
    if (*n == 0) {
        ADD(st, "meta:none", "", 0, false);
        return NULL;
    }
    size_t need = *n + *n / 2 + 8;
    char *out = need <= STACK_TEXT ? stack : malloc(need);
    if (!out)
        st->err = RG_ENOMEM;
    return out;
}

/* The author and the body: text with markup. */
static void text_field(tok *st, const char *prefix, const char *s, size_t max,
                       size_t budget)
{
    char stack[STACK_TEXT];
    size_t n;
    char *out = field_open(st, prefix, s, max, budget, stack, &n);
    if (!out)
        return;
    if (plain_only(s, n)) {
        plain_text(st, s, n, out);
    } else {
        dec d = {.out = out, .tags = true, .entities = true, .stats = true};
        decode(st, &d, s, n);
        split_text(st, &d);
    }
    text_meta(st);
    if (out != stack)
        free(out);
}

/* The e-mail address (only its domain) and the website. */
static void short_field(tok *st, const char *prefix, const char *s,
                        size_t budget, bool is_url)
{
    char stack[STACK_TEXT], buf[STACK_TEXT];
    uint8_t *owned = NULL;
    size_t n;
    char *out = field_open(st, prefix, s, SHORT_FIELD_MAX, budget, stack, &n);
    if (!out)
        return;
    dec d = {.out = out};
    decode(st, &d, s, n);
    size_t i = 0, len = d.len;
    while (i < len && (out[i] == ' ' || out[i] == SLOW_MARK))
        i++;
    while (len > i && (out[len - 1] == ' ' || out[len - 1] == SLOW_MARK))
        len--;
    const char *t = out + i;
    len -= i;
    if (len && d.any_marked) {
        t = fold_text(out + i, len, buf, sizeof buf, &len, &owned);
        if (!t) {
            st->err = RG_ENOMEM;
            goto done;
        }
    }
    if (len == 0) {
        ADD(st, "meta:none", "", 0, false);
    } else if (is_url) {
        url(st, t, len, URL_FIELD);
    } else {
        const char *at = memrchr(t, '@', len);
        size_t rest = at ? len - (size_t)(at + 1 - t) : 0;
        if (at && host_len(at + 1, rest) > 0)
            email(st, at + 1, rest);
        else
            ADD(st, "meta:malformed", "", 0, false);
    }
    common_meta(st);
done:
    free(owned);
    if (out != stack)
        free(out);
}

int rg__tokenize_comment(const rg_comment *c, rg__token_set *ts)
{
    tok st;
    if (!c || !ts)
        return RG_EINVAL;
    pthread_once(&scripts_once, find_scripts);
    memset(&st, 0, offsetof(tok, href));
    st.ts = ts;
    st.fold_budget = FOLD_MAX;
    size_t reserve =
        ts->limit / 4 < META_RESERVE ? ts->limit / 4 : META_RESERVE;
    st.content_max = ts->limit - reserve;
    /* The short fields first, so a huge body cannot crowd them out. */
    short_field(&st, "e:", c->email, EMAIL_TOKENS_MAX, false);
    short_field(&st, "u:", c->url, URL_TOKENS_MAX, true);
    text_field(&st, "a:", c->author, SHORT_FIELD_MAX, AUTHOR_TOKENS_MAX);
    text_field(&st, "", c->body, SIZE_MAX, SIZE_MAX);
    return st.err;
}
