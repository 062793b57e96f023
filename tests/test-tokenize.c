/*
 * The comment tokenizer: a table of tricky comments, each with tokens it
 * must produce and tokens it must not; properties that hold for every
 * input (tokens are valid UTF-8 of at most 64 bytes, and the same each
 * time); hostile 1 MB bodies; and the fast case-folding path against
 * u8_casefold() for every code point.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "helpers.h"
#include "tokenize.h"

Suite *tokenize_suite(void);

typedef struct tcase {
    const char *name;
    const char *author, *email, *url, *body;
    const char *want[32];  /* tokens that must be there */
    const char *refuse[8]; /* tokens that must not */
    const char *hidden[4]; /* text no token may contain */
    bool exact;            /* want lists every token */
} tcase;

static const tcase cases[] = {
    /* The example of docs/bayes.md, all of it. */
    {"the documented example",
     .body = "WINNER!! Claim your \xc2\xa3"
             "900 prize: call 09061701461 or see "
             "http://shop.example.co.uk/win",
     .want = {"winner",
              "p:!!",
              "claim",
              "your",
              "sym:\xc2\xa3",
              "num:money",
              "900",
              "num:len3",
              "prize",
              "call",
              "09061701461",
              "num:len11",
              "or",
              "num:phone",
              "num:pre:090",
              "see",
              "url:http",
              "host:shop.example.co.uk",
              "dom:example.co.uk",
              "tld:co.uk",
              "path:win",
              "meta:len:13",
              "meta:links:1",
              "meta:caps:low",
              "meta:capwords:1",
              "a:meta:none",
              "e:meta:none",
              "u:meta:none"}},

    /* Bytes that are not UTF-8: a token each, and never a crash. */
    {"lone 0xff",
     .body = "ab\xff"
             "cd",
     .want = {"ab", "cd", "bad:ff", "meta:bad-utf8"},
     .refuse = {"ab\xff"
                "cd"}},
    {"overlong slash",
     .body = "x\xc0\xaf"
             "yz",
     .want = {"bad:c0", "bad:af", "yz", "meta:bad-utf8"}, .hidden = {"/"}},
    {"truncated at the end", .body = "euro \xe2\x82",
     .want = {"euro", "bad:e2", "bad:82"}},
    {"surrogate", .body = "ab \xed\xa0\x80 cd",
     .want = {"bad:ed", "bad:a0", "bad:80", "ab", "cd"}},
    {"five-byte form", .body = "\xf8\x88\x80\x80\x80",
     .want = {"bad:f8", "bad:88", "bad:80"}},
    {"valid text is not bad", .body = "na\xc3\xafve caf\xc3\xa9",
     .want = {"na\xc3\xafve", "caf\xc3\xa9"}, .refuse = {"meta:bad-utf8"}},

    /* NFKC and case folding. */
    {"full-width",
     .body = "\xef\xbc\xa6\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa5 "
             "\xef\xbd\x8d\xef\xbd\x8f\xef\xbd\x8e\xef\xbd\x85\xef\xbd\x99",
     .want = {"free", "money"},
     .refuse = {"\xef\xbc\xa6\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa5"}},
    {"compatibility forms",
     .body = "\xef\xac\x81nd Stra\xc3\x9f"
             "e \xe2\x85\xab",
     .want = {"find", "strasse", "xii"}},
    {"case folding beyond ASCII",
     .body = "\xc3\x96L \xc3\x9c"
             "BER \xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 "
             "\xce\xa3\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x82",
     .want = {"\xc3\xb6l",
              "\xc3\xbc"
              "ber",
              "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
              "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83"}},
    {"combining accent composes", .body = "cafe\xcc\x81",
     .want = {"caf\xc3\xa9"}},

    /* Character references. */
    {"entities", .body = "Tom &amp; Jerry don&#39;t won&#x27;t &quot;hi&quot;",
     .want = {"tom", "jerry", "don't", "won't", "hi"},
     .refuse = {"amp", "39", "x27", "quot"}},
    {"bogus and unterminated entities", .body = "&foo; bar &#; &# &#x; x&#",
     .want = {"foo", "bar"}},
    {"entity out of range", .body = "ab&#99999999999999;cd &#x110000;",
     .want = {"ab", "cd"}},
    {"escaped markup is text", .body = "&lt;b&gt;bold&lt;/b&gt;",
     .want = {"bold"}, .refuse = {"html:b"}},
    {"SMS placeholder", .body = "call me &lt;#&gt; mins",
     .want = {"call", "me", "mins"}},

    /* Tags. */
    {"href in single quotes",
     .body = "<a href='http://x.example.com/page'>click</a>",
     .want = {"html:a", "url:http", "host:x.example.com", "dom:example.com",
              "tld:com", "path:page", "click", "meta:links:1"},
     .refuse = {"href", "page"}},
    {"href in double quotes",
     .body = "<a class=\"x\" href=\"http://x.example.com/page\">click</a>",
     .want = {"html:a", "host:x.example.com", "path:page", "click"},
     .refuse = {"class", "href"}},
    {"href without quotes",
     .body = "<A HREF=http://x.example.com/page>click</A>",
     .want = {"html:a", "host:x.example.com", "path:page", "click"}},
    {"entity in href",
     .body = "<a href=\"http://v.example.com/watch?v=abc&amp;t=1m\">x</a>",
     .want = {"path:watch", "path:abc", "path:1m"}, .refuse = {"path:amp"}},
    {"doubled brackets", .body = "<<b>>bold<</b>>", .want = {"html:b", "bold"}},
    {"script dropped", .body = "<script>var spam='casino';</script>visible",
     .want = {"html:script", "visible"}, .refuse = {"casino", "var", "spam"}},
    {"style dropped", .body = "<style>.x{color:red}</style>shown",
     .want = {"html:style", "shown"}, .refuse = {"color", "red"}},
    {"unclosed tag is text", .body = "see <a href='http://y.example.org/deal",
     .want = {"see", "host:y.example.org", "dom:example.org", "path:deal",
              "meta:links:1"},
     .refuse = {"html:a"}},
    {"unclosed script", .body = "ok <script>alert(1)",
     .want = {"ok", "html:script"}, .refuse = {"alert"}},
    {"comment", .body = "<!-- hidden --> shown",
     .want = {"html:comment", "shown"}, .refuse = {"hidden"}},
    {"unterminated comment", .body = "shown <!-- hidden", .want = {"shown"},
     .refuse = {"hidden"}},
    {"inline tags join", .body = "V<b>i</b>agra", .want = {"viagra"}},
    {"block tags separate", .body = "line<br>break<p>end",
     .want = {"line", "break", "end", "html:br", "html:p"},
     .refuse = {"linebreak"}},
    {"lone angle brackets", .body = "a < b and 3 > 2 <3 love",
     .want = {"and", "love"}},

    /* Symbols, punctuation, numbers. */
    {"currency and symbols",
     .body = "only \xc2\xa3"
             "5 or $10 50% off \xf0\x9f\x98\x80",
     .want = {"sym:\xc2\xa3", "sym:$", "sym:%", "num:money",
              "sym:\xf0\x9f\x98\x80", "off", "10", "50"}},
    {"runs of ! and ?", .body = "WIN!! now!!!! what??",
     .want = {"p:!!", "p:!!!", "p:??", "win", "now", "what"}},
    {"phone number", .body = "call 09061701461 now",
     .want = {"09061701461", "num:len11", "num:phone", "num:pre:090"}},
    {"grouped phone number", .body = "ring 0800 123-4567 today",
     .want = {"num:phone", "num:pre:080", "0800", "123", "4567"}},
    {"short code is not a phone", .body = "text WIN to 87121",
     .want = {"87121", "num:len5"}, .refuse = {"num:phone"}},
    {"phone number inside a word", .body = "apply 08452810075over18's",
     .want = {"num:phone", "num:pre:084"}},
    {"one-character words skipped", .body = "a b c dd", .want = {"dd"},
     .refuse = {"a", "b", "c"}},
    {"apostrophes", .body = "it\xe2\x80\x99s don't 'quoted'",
     .want = {"it's", "don't", "quoted"}, .refuse = {"'quoted'", "quoted'"}},
    {"many capitals", .body = "URGENT CALL NOW FREE PRIZE",
     .want = {"meta:caps:high", "meta:capwords:3+"}},
    {"no capitals", .body = "hello there friend",
     .want = {"meta:caps:none", "meta:len:9"}, .refuse = {"meta:capwords:1"}},
    {"length bucket",
     .body = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij",
     .want = {"meta:len:12"}},

    /* Invisible characters. */
    {"byte order mark",
     .body = "fr\xef\xbb\xbf"
             "ee",
     .want = {"free", "meta:invisible", "meta:invisible:1"},
     .refuse = {"fr", "ee"}},
    {"zero-width and bidi controls",
     .body = "c\xe2\x80\x8bh\xe2\x80\x8d"
             "ea\xe2\x80\xaep",
     .want = {"cheap", "meta:invisible:2+"}},
    {"hangul filler",
     .body = "sp\xe3\x85\xa4"
             "am",
     .want = {"spam", "meta:invisible:1"}},
    {"variation selector not counted", .body = "ok \xe2\x9d\xa4\xef\xb8\x8f",
     .want = {"sym:\xe2\x9d\xa4"}, .refuse = {"meta:invisible"}},

    /* Scripts. */
    {"Latin and Cyrillic in words",
     .body = "fr\xd0\xb5\xd0\xb5 m\xd0\xbe"
             "ney",
     .want = {"meta:scripts:2", "meta:mixed:2+"}},
    {"two scripts, separate words", .body = "hello \xd0\xbc\xd0\xb8\xd1\x80",
     .want = {"meta:scripts:2"}, .refuse = {"meta:mixed:1", "meta:mixed:2+"}},
    {"Japanese is not mixed",
     .body = "\xe3\x81\xb2\xe3\x82\x89\xe3\x82\xab\xe3\x82\xbf\xe6\xbc\xa2",
     .refuse = {"meta:scripts:2", "meta:mixed:1"}},

    /* URLs. */
    {"URL decomposition",
     .body = "see https://shop.example.co.uk/cheap-watches?id=77 now",
     .want = {"url:https", "host:shop.example.co.uk", "dom:example.co.uk",
              "tld:co.uk", "path:cheap", "path:watches", "path:id", "path:77",
              "see", "now", "meta:links:1"},
     .refuse = {"shop", "cheap", "https"}},
    {"www without scheme", .body = "visit www.spam.example.net today",
     .want = {"url:www", "host:www.spam.example.net", "dom:example.net",
              "meta:links:1"}},
    {"user part of a URL",
     .body = "http://bank.example.com@evil.example.ru/login",
     .want = {"url:userinfo", "host:evil.example.ru", "dom:example.ru",
              "tld:ru", "path:login"},
     .hidden = {"bank"}},
    {"user and password in a URL", .body = "http://alice:secret@example.com/",
     .want = {"url:userinfo", "host:example.com"},
     .hidden = {"secret", "alice"}},
    {"IP address", .body = "http://192.168.1.1:8080/x",
     .want = {"url:ip", "url:port", "host:192.168.1.1"}, .refuse = {"dom:1.1"}},
    {"bare domain", .body = "go to murdev.com today",
     .want = {"url:bare", "host:murdev.com", "dom:murdev.com", "murdev"},
     .refuse = {"meta:links:1"}},
    {"not a domain", .body = "fine.thanks mate", .refuse = {"url:bare"}},
    {"at signs that are no address", .body = "@someone thanks me@ a@",
     .want = {"someone", "thanks", "me"}},
    {"full-width URL",
     .body = "\xef\xbd\x97\xef\xbd\x97\xef\xbd\x97\xef\xbc\x8e\xef\xbd\x85"
             "\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90\xef\xbd\x8c"
             "\xef\xbd\x85\xef\xbc\x8e\xef\xbd\x83\xef\xbd\x8f\xef\xbd\x8d",
     .want = {"url:www", "host:www.example.com", "dom:example.com"}},
    {"URL glued to text", .body = "here>>http://wap.example.com?n=QJK",
     .want = {"here", "host:wap.example.com", "path:qjk"}},
    {"link text repeating its target",
     .body = "<a href=\"https://youtu.be/KQ6\">https://youtu.be/KQ6</a>",
     .want = {"meta:links:1", "host:youtu.be"}},
    {"two links", .body = "http://a.example.com, and http://b.example.com.",
     .want = {"meta:links:2", "host:a.example.com", "host:b.example.com"}},

    /* E-mail addresses: the domain, never the local part. */
    {"address in the body", .body = "write to alice.b@shop.example.co.uk now",
     .want = {"mail:shop.example.co.uk", "mail:dom:example.co.uk", "write",
              "now"},
     .hidden = {"alice"}},
    {"address field", .email = "John.Smith+tag@Mail.Example.COM",
     .want = {"e:mail:mail.example.com", "e:mail:dom:example.com"},
     .hidden = {"john", "smith", "tag"}},
    {"malformed address field", .email = "not-an-address",
     .want = {"e:meta:malformed"}, .hidden = {"address"}},
    {"mailto link",
     .body = "<a href=\"mailto:bob@example.org?subject=hi\">mail me</a>",
     .want = {"url:mailto", "mail:example.org", "mail:dom:example.org", "mail",
              "me"},
     .hidden = {"bob", "subject"}},

    /* Fields. */
    {"field prefixes", .author = "Free Money", .url = "http://a.example.com/x1",
     .body = "free money http://b.example.com",
     .want = {"a:free", "a:money", "free", "money", "u:url:http",
              "u:host:a.example.com", "u:path:x1", "host:b.example.com"},
     .refuse = {"host:a.example.com", "a:host:b.example.com", "u:free",
                "u:meta:none"}},
    {"website without scheme", .url = "Shop.Example.com/blog",
     .want = {"u:host:shop.example.com", "u:dom:example.com", "u:path:blog"}},
    {"markup in the author", .author = "<b>Cheap</b> pills",
     .want = {"a:cheap", "a:pills", "a:html:b"}},
    {"empty fields", .author = "", .email = "", .url = "", .body = "",
     .want = {"meta:none", "a:meta:none", "e:meta:none", "u:meta:none"},
     .refuse = {"meta:len:0"}},
    {"NULL fields",
     .want = {"meta:none", "a:meta:none", "e:meta:none", "u:meta:none"}},
    {"blank fields", .author = " \t", .email = " ", .url = "\n",
     .body = "  \r\n ",
     .want = {"a:meta:len:3", "e:meta:none", "u:meta:none", "meta:len:5"}},
};

static void tokenize(const char *author, const char *email, const char *url,
                     const char *body, rg__token_set *ts)
{
    rg_comment c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    c.author = author;
    c.email = email;
    c.url = url;
    c.body = body;
    rg__token_set_clear(ts);
    ck_assert_int_eq(rg__tokenize_comment(&c, ts), RG_OK);
}

static bool has(const rg__token_set *ts, const char *token)
{
    return rg__token_set_find(ts, token, strlen(token)) >= 0;
}

/* Writes the tokens to stderr, to see what a failing case produced. */
static void show(const char *name, const rg__token_set *ts)
{
    fprintf(stderr, "%s:", name);
    for (size_t i = 0; i < ts->count; i++)
        fprintf(stderr, " [%s]", rg__token_set_get(ts, i, NULL));
    fprintf(stderr, "\n");
}

/* What holds for every token of every input. */
static void check_tokens(const rg__token_set *ts)
{
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *t = rg__token_set_get(ts, i, &len);
        rg_test_assert_msg(len >= 1 && len <= RG__TOKEN_LEN_MAX,
                           "token %zu: %zu bytes", i, len);
        rg_test_assert_msg(strlen(t) == len, "token %zu holds a NUL", i);
        rg_test_assert_msg(u8_check((const uint8_t *)t, len) == NULL,
                           "token %zu is not UTF-8", i);
    }
}

START_TEST(test_case)
{
    const tcase *tc = &cases[_i];
    rg__token_set ts, again;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    rg__token_set_init(&again, RG__COMMENT_TOKENS_MAX);
    tokenize(tc->author, tc->email, tc->url, tc->body, &ts);
    check_tokens(&ts);

    bool ok = true;
    for (size_t i = 0; i < 32 && tc->want[i]; i++) {
        if (!has(&ts, tc->want[i])) {
            fprintf(stderr, "%s: missing [%s]\n", tc->name, tc->want[i]);
            ok = false;
        }
    }
    for (size_t i = 0; i < 8 && tc->refuse[i]; i++) {
        if (has(&ts, tc->refuse[i])) {
            fprintf(stderr, "%s: unwanted [%s]\n", tc->name, tc->refuse[i]);
            ok = false;
        }
    }
    for (size_t i = 0; i < 4 && tc->hidden[i]; i++) {
        for (size_t j = 0; j < ts.count; j++) {
            if (strstr(rg__token_set_get(&ts, j, NULL), tc->hidden[i])) {
                fprintf(stderr, "%s: [%s] leaks \"%s\"\n", tc->name,
                        rg__token_set_get(&ts, j, NULL), tc->hidden[i]);
                ok = false;
            }
        }
    }
    if (tc->exact) {
        size_t n = 0;
        while (n < 32 && tc->want[n])
            n++;
        if (ts.count != n) {
            fprintf(stderr, "%s: %zu tokens, not %zu\n", tc->name, ts.count, n);
            ok = false;
        }
    }
    if (!ok)
        show(tc->name, &ts);
    ck_assert_msg(ok, "case \"%s\"", tc->name);

    /* The same comment gives the same tokens, in the same order. */
    tokenize(tc->author, tc->email, tc->url, tc->body, &again);
    ck_assert_uint_eq(again.count, ts.count);
    for (size_t i = 0; i < ts.count; i++)
        ck_assert_str_eq(rg__token_set_get(&again, i, NULL),
                         rg__token_set_get(&ts, i, NULL));
    rg__token_set_free(&ts);
    rg__token_set_free(&again);
}
END_TEST

START_TEST(test_counts_once)
{
    rg__token_set ts;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    tokenize(NULL, NULL, NULL, "spam Spam SPAM sp&#97;m", &ts);
    size_t n = 0;
    for (size_t i = 0; i < ts.count; i++)
        n += strcmp(rg__token_set_get(&ts, i, NULL), "spam") == 0;
    ck_assert_uint_eq(n, 1);
    rg__token_set_free(&ts);
}
END_TEST

START_TEST(test_long_word_cut)
{
    /* 100 two-byte letters: cut to 64 bytes on a character boundary. */
    char body[201];
    for (int i = 0; i < 100; i++)
        memcpy(body + 2 * i, "\xc3\xa9", 2);
    body[200] = '\0';
    rg__token_set ts;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    tokenize(NULL, NULL, NULL, body, &ts);
    check_tokens(&ts);
    ck_assert(has(&ts, body));
    ck_assert_uint_eq(strlen(rg__token_set_get(&ts, 3, NULL)), 64);
    rg__token_set_free(&ts);
}
END_TEST

START_TEST(test_null_arguments)
{
    rg__token_set ts;
    rg_comment c;
    memset(&c, 0, sizeof c);
    rg__token_set_init(&ts, 16);
    ck_assert_int_eq(rg__tokenize_comment(NULL, &ts), RG_EINVAL);
    ck_assert_int_eq(rg__tokenize_comment(&c, NULL), RG_EINVAL);
    rg__token_set_free(&ts);
}
END_TEST

/*
 * Plain ASCII text, without markup or references, has a fast path of its
 * own; "&#32;" at the end is a space too, but takes the slow one. Both
 * must give the same tokens in the same order.
 */
static const char *const plain_bodies[] = {
    "FREE entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. "
    "Text FA to 87121 to receive entry question(std txt rate)T's apply "
    "08452810075over18's",
    "URGENT! You have WON a 1 week FREE membership in our $100,000 prize "
    "Jackpot!!! 50% off, ABC DEF GHIJ kLMN OPq",
    "Call 0800 123-4567 now or (020) 7946 0958 or +44.20.7946.0958 / 12",
    "see http://shop.example.co.uk/win or www.example.com/x?y=z, mail "
    "me@example.org. http://bank.example@evil.example:8080/p fine.so",
    "don't it's rock'n'roll 'quoted' o' 1'2 ok... why?!?! wait?? no!! x",
    "tab\there\x01mark\x7f"
    "del\r\nline\v\f end",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc "
    "x1234567890123y 123456789012345678 WWW.EXAMPLE.NET",
    "",
};

static void same_tokens(const rg__token_set *a, const rg__token_set *b)
{
    ck_assert_uint_eq(a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        ck_assert_str_eq(rg__token_set_get(a, i, NULL),
                         rg__token_set_get(b, i, NULL));
}

START_TEST(test_plain_path)
{
    char plain[512], slow[512];
    rg__token_set a, b;
    snprintf(plain, sizeof plain, "%s ", plain_bodies[_i]);
    snprintf(slow, sizeof slow, "%s&#32;", plain_bodies[_i]);
    rg__token_set_init(&a, RG__COMMENT_TOKENS_MAX);
    rg__token_set_init(&b, RG__COMMENT_TOKENS_MAX);
    tokenize(NULL, NULL, NULL, plain, &a);
    tokenize(NULL, NULL, NULL, slow, &b);
    same_tokens(&a, &b);
    tokenize(plain, NULL, NULL, "x", &a);
    tokenize(slow, NULL, NULL, "x", &b);
    same_tokens(&a, &b);
    rg__token_set_free(&a);
    rg__token_set_free(&b);
}
END_TEST

START_TEST(test_small_sets)
{
    /* Whatever the limit, the set holds no more, and nothing breaks. */
    static const size_t limits[] = {0, 1, 4, 8, 40};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        rg__token_set ts;
        rg__token_set_init(&ts, limits[l]);
        tokenize("Some Author", "x@example.com", "http://example.com/",
                 "many words in a comment with http://example.org/link", &ts);
        ck_assert_uint_le(ts.count, limits[l]);
        check_tokens(&ts);
        rg__token_set_free(&ts);
    }
}
END_TEST

/* Hostile bodies of 1 MB: a pattern repeated. */
static const char *const patterns[] = {
    "word ",
    "<a",
    "<a href='",
    "<a href=http://x.example.com/",
    "&#",
    "&#x41",
    "&amp;",
    "\xff",
    "\xcc\x81",
    "\xef\xbd\x97",
    "<!--",
    "<script>",
    "</",
    "a@b.example.com ",
    "@",
    "http://",
    "www.",
    "x.com ",
    "1-",
    "\xe2\x80\x8b",
    "!",
    "\xd0\x96",
    "'",
    /* é precomposed, then a and a combining acute. */
    ("\xc3\xa9"
     "a\xcc\x81"),
};

static char *repeat(const char *pattern, size_t size)
{
    size_t plen = strlen(pattern);
    char *s = malloc(size + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < size; i++)
        s[i] = pattern[i % plen];
    s[size] = '\0';
    return s;
}

START_TEST(test_huge_body)
{
    char *body = repeat(patterns[_i], 1 << 20);
    rg__token_set ts;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    tokenize("Author Name", "someone@example.com", "http://example.net/", body,
             &ts);
    check_tokens(&ts);
    ck_assert_uint_le(ts.count, RG__COMMENT_TOKENS_MAX);
    /* The short fields and the summary of the body always make it. */
    ck_assert(has(&ts, "a:author"));
    ck_assert(has(&ts, "e:mail:example.com"));
    ck_assert(has(&ts, "u:host:example.net"));
    bool len = false;
    for (size_t i = 0; i < ts.count; i++)
        len |= strncmp(rg__token_set_get(&ts, i, NULL), "meta:len:", 9) == 0;
    ck_assert_msg(len, "no meta:len token for pattern %d", _i);
    ck_assert(has(&ts, "meta:links:0") || has(&ts, "meta:links:1") ||
              has(&ts, "meta:links:2") || has(&ts, "meta:links:3+"));
    rg__token_set_free(&ts);
    free(body);
}
END_TEST

START_TEST(test_many_distinct_words)
{
    /* More distinct words than the set keeps: it fills and says so. */
    size_t size = 1 << 20, len = 0;
    char *body = malloc(size + 16);
    ck_assert_ptr_nonnull(body);
    for (unsigned i = 0; len < size; i++)
        len += (size_t)snprintf(body + len, 16, "w%u ", i);
    rg__token_set ts;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    tokenize(NULL, NULL, NULL, body, &ts);
    ck_assert(ts.truncated);
    ck_assert_uint_le(ts.count, RG__COMMENT_TOKENS_MAX);
    ck_assert(has(&ts, "w0"));
    ck_assert(has(&ts, "meta:len:41"));
    ck_assert(has(&ts, "meta:links:0"));
    rg__token_set_free(&ts);
    free(body);
}
END_TEST

/*
 * The tokenizer folds most characters itself and leaves the rest to
 * u8_casefold(). For every letter, digit and mark: "q<c>q" must give the
 * word u8_casefold() gives, whichever path it took.
 */
static bool word_text(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        i += (size_t)u8_mbtouc(&c, s + i, n - i);
        if (!uc_is_general_category(c, UC_CATEGORY_L) &&
            !uc_is_general_category(c, UC_CATEGORY_N) &&
            !uc_is_general_category(c, UC_CATEGORY_M))
            return false;
    }
    return true;
}

START_TEST(test_fold_plane)
{
    /* Under valgrind, the same check on every seventh code point: a
     * seventh of each plane, at every offset within its blocks still (7 is
     * odd, so the steps pass through every value of the low bits). */
    const ucs4_t step = rg_test_under_valgrind() ? 7 : 1;
    rg__token_set ts;
    rg__token_set_init(&ts, RG__COMMENT_TOKENS_MAX);
    size_t checked = 0;
    for (ucs4_t c = (ucs4_t)_i << 16; c < ((ucs4_t)_i + 1) << 16; c += step) {
        if (c < 0x80 || (c >= 0xd800 && c <= 0xdfff) ||
            uc_is_property_default_ignorable_code_point(c) ||
            !(uc_is_general_category(c, UC_CATEGORY_L) ||
              uc_is_general_category(c, UC_CATEGORY_N) ||
              uc_is_general_category(c, UC_CATEGORY_M)))
            continue;
        uint8_t body[8], want[64];
        body[0] = 'q';
        int len = u8_uctomb(body + 1, c, 4);
        body[1 + len] = 'q';
        body[2 + len] = '\0';
        size_t want_len = sizeof want;
        uint8_t *w = u8_casefold(body, (size_t)len + 2, NULL, UNINORM_NFKC,
                                 want, &want_len);
        rg_test_assert(w == want);
        if (!word_text(want, want_len) || want_len > RG__TOKEN_LEN_MAX)
            continue;
        tokenize(NULL, NULL, NULL, (const char *)body, &ts);
        rg_test_assert_msg(
            rg__token_set_find(&ts, (const char *)want, want_len) >= 0,
            "U+%04X does not fold as u8_casefold() does", (unsigned)c);
        checked++;
    }
    if (_i == 0)
        ck_assert_uint_gt(checked, 50000 / step);
    rg__token_set_free(&ts);
}
END_TEST

Suite *tokenize_suite(void)
{
    Suite *s = suite_create("tokenize");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, test_case, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_counts_once);
    tcase_add_test(tc, test_long_word_cut);
    tcase_add_test(tc, test_null_arguments);
    tcase_add_test(tc, test_small_sets);
    tcase_add_loop_test(tc, test_plain_path, 0,
                        (int)(sizeof plain_bodies / sizeof plain_bodies[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_loop_test(tc, test_huge_body, 0,
                        (int)(sizeof patterns / sizeof patterns[0]));
    tcase_add_test(tc, test_many_distinct_words);
    suite_add_tcase(s, tc);

    tc = tcase_create("folding");
    tcase_add_loop_test(tc, test_fold_plane, 0, 17);
    suite_add_tcase(s, tc);
    return s;
}
