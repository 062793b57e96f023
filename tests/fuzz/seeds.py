#!/usr/bin/env python3
"""Writes the hand-made seed corpora of the fuzz targets (tests/fuzz/NAME/).

Each seed is small and means something: a valid token and its answer, an
answer in another script, a comment with markup, a URL of each scheme. The
layouts are those the targets' comments describe. Running it again rewrites
the same files and leaves every other file alone (minimized crash
reproducers, kept coverage inputs). Tokens are made from
tests/data/token-vectors.txt, with the construction of docs/token-format.md.

Usage: seeds.py   (from anywhere; it writes next to itself)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The test vectors' reader is token_reference.py's, one directory up.
sys.path.insert(0, os.path.dirname(HERE))
import token_reference  # noqa: E402


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def nul(*parts):
    return b"\0".join(p.encode() if isinstance(p, str) else p for p in parts)


def read_vectors():
    return token_reference.read_vectors(
        os.path.join(HERE, "..", "data", "token-vectors.txt"))


# ---- token ----

def token_seeds():
    vectors = read_vectors()
    # fuzz-token.c's mode 0 knows the vectors' keys in the order of `base`,
    # and sets its clock from a byte t: the issue time of key t % 5, plus
    # (t / 5) * 10 seconds.
    base = {"basic": 0, "binding": 0, "russian": 1, "zero-answer": 2,
            "spanish-large": 3, "french": 4}
    for v in vectors:
        name, i = v["name"], base[v["name"]]
        tok, ans, bind = v["token"], v["answer"], v["binding"]
        at = lambda k: bytes([0, i + 5 * k])
        write("token", f"pass-{name}", at(1) + nul(tok, ans, bind))
        write("token", f"wrong-{name}", at(1) + nul(tok, str(int(ans) + 1),
                                                     bind))
        write("token", f"forged-binding-{name}",
              at(1) + nul(tok, ans, bind + "!"))
        write("token", f"too-fast-{name}", at(0) + nul(tok, ans, bind))
    basic = vectors[0]
    tok = basic["token"]
    at = bytes([0, 5])
    write("token", "pass-words", at + nul(tok, "Nineteen", ""))
    write("token", "pass-fullwidth", at + nul(tok, "\uff11\uff19", ""))
    write("token", "pass-padded", at + nul(tok, " +19\t", ""))
    french = [v for v in vectors if v["name"] == "french"][0]
    write("token", "expired", bytes([0, 4 + 5 * 7]) +
          nul(french["token"], french["answer"], french["binding"]))
    write("token", "malformed-short", at + nul(tok[:-1], "19", ""))
    write("token", "malformed-long", at + nul(tok + "A", "19", ""))
    write("token", "malformed-last-char", at + nul(tok[:-1] + "R", "19", ""))
    write("token", "malformed-alphabet", at + nul(tok[:10] + "+" + tok[11:],
                                                  "19", ""))
    write("token", "empty", b"\0")

    # Mode 1: a round trip with settings from the input.
    def trip(now, ttl, min_solve, skew, style, locale, cfg_locale,
             ranges=None, key_id=1, pos=0, sub=0, binding="post-42",
             prefix="", suffix=""):
        b = bytes([1]) + struct.pack("<QHHHBBB", now, ttl - 1, min_solve,
                                     skew, style, locale, cfg_locale)
        if ranges:
            b += bytes([1]) + struct.pack("<HHHBB", *ranges)
        else:
            b += bytes([0])
        b += struct.pack("<IBB", key_id, pos, sub)
        return b + nul(binding, prefix, suffix)

    write("token", "trip-default", trip(1700000000, 1200, 5, 60, 0, 0, 0))
    write("token", "trip-russian-words", trip(1767225600, 600, 3, 30, 0, 1,
                                              1, sub=1))
    write("token", "trip-german-mixed", trip(1732740000, 1200, 5, 60, 2, 2,
                                             2, pos=93, sub=7))
    write("token", "trip-french-three-terms",
          trip(1800000000, 60, 0, 0, 1, 3, 3, ranges=(0, 20, 100, 3, 2),
               pos=72, sub=3, prefix=" ", suffix="\u200b"))
    write("token", "trip-spanish-missing",
          trip(4102444800, 3600, 10, 120, 0, 4, 4,
               ranges=(1, 999, 999, 7, 7), key_id=0xffffffff, sub=5,
               prefix="\uff0b"))
    write("token", "trip-multiply-zero",
          trip(5, 2, 1, 5, 1, 0, 0, ranges=(0, 0, 0, 4, 1), binding=""))
    write("token", "trip-out-of-range",
          trip(1700000000, 1200, 5, 60, 0, 0, 0, ranges=(10, 5, 100, 7, 1)))

    # Mode 2: questions from the internal maker.
    def q(lo, hi, prod, ops, forms, locale, seed):
        return (bytes([2]) + struct.pack("<HHHBBB", lo, hi, prod, ops, forms,
                                         locale) + seed)

    for loc in range(5):
        write("token", f"question-{loc}",
              q(0, 20, 100, 7, 7, loc, bytes(range(loc, loc + 32))))
    write("token", "question-large", q(100, 999, 999, 3, 6, 0, b"\xff" * 32))


# ---- answer ----

def answer_seeds():
    en, ru, de, fr, es, default = range(6)
    cases = {
        "digits": (en, "19"),
        "spaces": (en, " 19 "),
        "plus": (en, "+19"),
        "plus-plus": (en, "++19"),
        "plus-space": (en, "+ 19"),
        "minus": (en, "-19"),
        "minus-after": (en, "19-"),
        "minus-sign": (en, "\u221219"),
        "leading-zeros": (en, "0019"),
        "huge": (en, "99999999999999999999"),
        "limit-64": (en, "0" * 62 + "19"),
        "limit-65": (en, "0" * 63 + "19"),
        "fullwidth": (en, "\uff11\uff19"),
        "arabic-indic": (en, "\u0661\u0669"),
        "persian": (en, "\u06f1\u06f9"),
        "devanagari": (en, "\u0967\u096f"),
        "circled": (en, "\u2472"),
        "squared-mb": (en, "\u3386"),
        "zero-width": (en, "1\u200b9"),
        "rtl-mark": (en, "\u200f\u0661\u0669"),
        "words": (en, "nineteen"),
        "words-upper": (en, "NINETEEN"),
        "words-fullwidth": (en, "\uff4e\uff49\uff4e\uff45\uff54\uff45\uff45"
                                "\uff4e"),
        "hyphen": (en, "twenty-one"),
        "en-dash": (en, " twenty \u2013 one "),
        "and": (en, "one hundred and five"),
        "split": (en, "nine teen"),
        "apples": (en, "19 apples"),
        "blank": (en, "   "),
        "empty": (en, ""),
        "bad-bytes": (en, b"\xff\xfe"),
        "overlong": (en, b"\xc0\xaf"),
        "cut-short": (en, b"1\xe2\x82"),
        "surrogate": (en, b"\xed\xa0\x80"),
        "ru-words": (ru, "\u0434\u0435\u0432\u044f\u0442\u043d\u0430\u0434"
                         "\u0446\u0430\u0442\u044c"),
        "ru-upper": (ru, "\u0414\u0415\u0412\u042f\u0422\u041d\u0410\u0414"
                         "\u0426\u0410\u0422\u042c"),
        "ru-nul": (ru, "\u043d\u0443\u043b\u044c"),
        "ru-feminine": (ru, "\u0441\u0442\u043e \u0434\u0432\u0435"),
        "de-words": (de, "neunzehn"),
        "de-compound": (de, "einundzwanzig"),
        "de-spaced": (de, "ein und zwanzig"),
        "de-eszett": (de, "drei\u00dfig"),
        "de-capital-eszett": (de, "DREI\u1e9eIG"),
        "de-ascii": (de, "fuenfundzwanzig"),
        "fr-words": (fr, "dix-neuf"),
        "fr-reform": (fr, "vingt-et-un"),
        "fr-ninety-nine": (fr, "quatre-vingt-dix-neuf"),
        "fr-septante": (fr, "septante et un"),
        "fr-accent": (fr, "Z\u00c9RO"),
        "es-accent": (es, "veintid\u00f3s"),
        "es-combining": (es, "veintido\u0301s"),
        "es-short": (es, "ciento un"),
        "en-in-es": (es, "nineteen"),
        "default-locale": (default, "twenty"),
        "ligature": (en, "\ufb01ve"),
        "long-ascii": (en, " " * 250 + "19" + " " * 40),
    }
    for name, (loc, text) in cases.items():
        if isinstance(text, str):
            text = text.encode()
        write("answer", name, bytes([loc]) + text)


# ---- numwords ----

def numwords_seeds():
    texts = {
        0: ["one hundred and five", "twenty one", "nine hundred ninety nine",
            "one thousand"],
        1: ["\u0434\u0432\u0430\u0434\u0446\u0430\u0442\u044c \u043e\u0434"
            "\u043d\u0430", "\u0441\u0442\u043e"],
        2: ["hundertzwei", "fuenf", "zwoelf", "ein und zwanzig",
            "einhunderteins"],
        3: ["quatre vingt", "deux cent un", "deux-cents", "huitante",
            "octante et un", "soixante et onze", "nonante-neuf"],
        4: ["veintiun", "treinta y un", "quinientos", "dieciseis", "cien"],
    }
    values = [0, 1, 2, 17, 21, 71, 80, 81, 99, 100, 101, 171, 200, 501, 999]
    for loc in range(5):
        for i, value in enumerate(values[loc::3] + [1000 + loc]):
            raw = value if value < 1000 else 0x8000 | value
            size = [1, 5, 12, 40, 127][i % 5]
            text = texts[loc][i % len(texts[loc])]
            write("numwords", f"l{loc}-{value}",
                  bytes([loc]) + struct.pack("<HB", raw, size - 1) +
                  text.encode())


# ---- tokenize ----

def tokenize_seeds():
    comments = {
        "plain": ("Anna", "anna@example.org", "", "Great post, thanks!"),
        "spam-url": ("", "", "", "Buy cheap watches at "
                     "http://shop.example.co.uk/cheap-watches?x=1&y=2#top"),
        "html-link": ("", "", "", '<a href="https://evil.example/p?q=1">'
                      'click here</a> V<b>i</b>agra<br/>now'),
        "html-script": ("", "", "", "<script>var x = '<b>';</script>"
                        "<style>p{}</style><!-- hidden -->text"),
        "entities": ("", "", "", "&lt;b&gt;bold&lt;/b&gt; &amp; &#39;q&#x27"
                     " &nbsp;&euro;5 &foo; &#xZZ; &#99999999;"),
        "unterminated-tag": ("", "", "", "<a href='x" + " y" * 20),
        "lone-lt": ("", "", "", "1 < 2 and 3 > 2 <3 <<>>"),
        "invisible": ("", "", "", "fr\u200bee mo\u00adney \ufeffnow"
                      " \u202eevil\u202c"),
        "fullwidth": ("\uff26\uff32\uff25\uff25", "", "",
                      "\uff26\uff32\uff25\uff25 \ufb01nd Stra\u00dfe"),
        "mixed-script": ("", "", "", "p\u0430yp\u0430l login \u0455ecure"),
        "emoji": ("", "", "", "\U0001f600\U0001f4b0\U0001f4b0 win \u00a9"
                  " 50% off!!! ???"),
        "phone-money": ("", "", "", "Call 0800 123-4567 or (090) 12.34.56"
                        " now, \u00a35 or 10$"),
        "email-text": ("", "", "", "mail me at bob.smith@mail.example.com"
                       " or mailto:x@y.example"),
        "bad-utf8": ("\xff", "", "", b"caf\xc3 na\xefve \xed\xa0\x80 "
                     b"\xf4\x90\x80\x80 \xc0\xaf end"),
        "long-word": ("", "", "", "x" * 100 + " " + "\u00e9" * 70 +
                      " " + "\u65e5" * 30),
        "cjk": ("", "", "", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9"
                "\u30c8\u3068\ud55c\uad6d\uc5b4"),
        "arabic-russian": ("", "", "", "\u0645\u0631\u062d\u0628\u0627"
                           " \u041f\u0440\u0438\u0432\u0435\u0442 Hello"),
        "bare-domains": ("", "", "", "see www.example.com and example.org,"
                         " shop.example.co.uk. not.a.tld"),
        "url-oddities": ("", "", "", "http://192.168.0.1:8080/x "
                         "http://bank.example@evil.example/ https:///nohost"
                         " HTTP://UPPER.EXAMPLE/Path%20Word"),
        "fields": ("Bob <b>Smith</b>", "bob@example.com",
                   "https://bob.example/blog", "Nice"),
        "bad-fields": ("", "not-an-email", "javascript:alert(1)", "body"),
        "host-field": ("", "@", "example.com", ""),
        "turkish": ("", "", "", "\u0130stanbul \u0131\u0130 ISTANBUL"),
        "apostrophes": ("", "", "", "don't it\u2019s 'quoted' rock'n'roll"),
        "caps": ("", "", "", "WINNER WINNER CLAIM YOUR PRIZE NOW"),
        "controls": ("", "", "", "a\tb\nc\rd\x01e\x7ff\u2028g\u00a0h"),
    }
    for name, fields in comments.items():
        parts = [f.encode() if isinstance(f, str) else f for f in fields]
        write("tokenize", name, bytes([0]) + b"\0".join(parts))
    write("tokenize", "all-null", bytes([15]))
    write("tokenize", "body-only", bytes([7]) + b"\0\0\0just the body")
    # A tag whose '>' is further than 2048 bytes, and a long body.
    write("tokenize", "far-gt", bytes([7]) + b"\0\0\0<a " + b"x" * 2100 +
          b"> after")
    words = " ".join(f"word{i} http://h{i}.example/p{i}" for i in range(400))
    write("tokenize", "many-tokens", bytes([7]) + b"\0\0\0" + words.encode())


# ---- cli-jsonl ----

def jsonl_seeds():
    lines = {
        "objects": '{"id":1,"body":"hi"}\n{"id":"a","author":null,'
                   '"email":"x@example.com"}\n',
        "crlf": '{"body":"a"}\r\n{"body":"b"}\r\n\r\n',
        "no-final-newline": '{"body":"last"}',
        "bad-json": '{"body":}\n[1,2]\n"str"\n42\nnull\n{"a":1}x\n',
        "duplicate-key": '{"body":"a","body":"b"}\n',
        "nul-escape": '{"body":"a\\u0000b"}\n',
        "lone-surrogate": '{"body":"\\ud800"}\n{"body":"\\ud83d\\ude00"}\n',
        "ids": '{"id":12345678901234567890}\n{"id":1.5}\n{"id":-7}\n'
               '{"id":true}\n{"id":[1]}\n{"id":"\\u001b[2J"}\n',
        "controls": '{"body":"tab\\there\\u001f\\u007f","url":"\\/"}\n',
        "unicode": '{"author":"\u00c5sa \U0001f600","body":"\u65e5\u672c"}\n',
        "blank-lines": "\n   \n\t\n{}\n",
        "nested": '{"body":{"x":[1,{"y":null}]},"email":5}\n',
        "bom": '\ufeff{"body":"bom"}\n',
    }
    for name, text in lines.items():
        write("cli-jsonl", name, bytes([0]) + text.encode())
    write("cli-jsonl", "bad-utf8", bytes([0]) + b'{"body":"\xff\xc0"}\n')
    write("cli-jsonl", "raw-nul", bytes([0]) + b'{"body":"a\0b"}\n{}\n')
    # A mode byte of 0xff makes the first line 1 MiB - 8 spaces longer:
    # after an object of 8 bytes it is the 1 MiB limit itself, after one of
    # 9 bytes (or 8 and a CR) one byte over. 0xa0 to 0xaf make it (mode &
    # 15) * 8 KiB longer.
    write("cli-jsonl", "at-limit", b'\xff{"id":1}\n{"id":2}\n')
    write("cli-jsonl", "over-limit", b'\xff{"id":10}\n{"id":2}\n')
    write("cli-jsonl", "over-limit-cr", b'\xff{"id":1}\r\n{}')
    write("cli-jsonl", "under-limit", b'\xff{"id"}\n{}')
    write("cli-jsonl", "chunks", b'\xaf{"body":"\n"}\n')


# ---- store-url ----

def store_url_seeds():
    urls = [
        "memory:", "memory:?capacity=1", "memory:?capacity=100000",
        "memory:?capacity=007", "MEMORY:", "Memory:?capacity=5",
        "memory:?CAPACITY=5", "memory:?capacity=0",
        "memory:?capacity=100000001",
        "memory:?capacity=18446744073709551616", "memory:?capacity=1e3",
        "memory:?capacity=-1", "memory:?capacity= 1",
        "memory:?capacity=1&capacity=2", "memory:?capacity=1&",
        "memory:?tokens=100000000", "memory:?tokens=7&capacity=5",
        "memory:?&capacity=1", "memory:?", "memory:x", "memory://",
        "memory", "memor:", " memory:",
        "sqlite:", "sqlite:/var/lib/blog/model.sqlite", "SQLite:relative.db",
        "sqlite", "redis://127.0.0.1:1",
        "REDIS://127.0.0.1:1/0?prefix=site-1&timeout_ms=200",
        "redis://[::1]:1/2", "redis://[::1]", "redis://[]",
        "redis://[::1", "redis://[a/b]:7", "redis://[[]", "redis://a b",
        "redis://[fe80::1%eth0]", "redis://[::ffff:1.2.3.4]:7",
        "redis://redis_1.internal-net:6380", "redis://h", "redis://h/",
        "redis://h:6379/1000000", "redis://h/1000001", "redis://:6379",
        "redis://h:0", "redis://h:65536", "redis://h:63x79", "redis://h/x",
        "redis://h/-1", "redis://user:secret@h", "redis://h?prefix=",
        "redis://h?prefix=a%20b", "redis://h?prefix=" + "p" * 64,
        "redis://h?prefix=" + "p" * 65, "redis://h?prefix=x&prefix=y",
        "redis://h?timeout_ms=0", "redis://h?timeout_ms=60001",
        "redis://h?timeout_ms=0000000001", "redis://h?db=1",
        "redis://h?", "redis://h?prefix=a&", "redis://" + "h" * 256,
        "redis:/h", "unix:///run/redis.sock?db=1&prefix=a:b&timeout_ms=5",
        "unix:/run/redis.sock", "unix:run/redis.sock", "unix://x",
        "unix:", "unix:///", "UNIX:///x?db=1000001",
        "unix:///x?port=1", "https://example.com/", "",
    ]
    for i, url in enumerate(urls):
        write("store-url", f"url-{i:02d}", url)


# ---- client-key ----

def client_key_seeds():
    addresses = [
        "203.0.113.7", "2001:db8::1", "::ffff:203.0.113.7", "::1", "::",
        "fe80::1%eth0", "127.1", "01.2.3.4", "1.2.3.4:80", "[::1]",
        "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4",
        "::ffff:0:1.2.3.4", "::1.2.3.4", "host.example", " 1.2.3.4",
        "1.2.3.4 ", "", "255.255.255.255", "256.0.0.1",
        "2001:DB8::ABCD:1", "2001:db8::1::1", "x" * 70,
        "0000:0000:0000:0000:0000:0000:0000:0001",
    ]
    prefixes = [0, 1, 7, 8, 48, 56, 63, 64, 65, 127, 128, 129, 255]
    for i, addr in enumerate(addresses):
        write("client-key", f"a{i:02d}", bytes([prefixes[i % len(prefixes)]])
              + addr.encode())


# ---- form ----

def form_seeds():
    def form(flags, pick, question="", spoken="", token="", locale="",
             a="rg_answer", t="rg_token", h="rg_note", expires=0):
        return (bytes([flags, pick]) +
                nul(question, spoken, token, locale, a, t, h) + b"\0" +
                struct.pack("<Q", expires))

    for pick in range(15):
        write("form", f"issued-{pick:02d}", form(1, pick, question="post-1"))
    write("form", "issued-names", form(1, 3, a='a"<>', t="t&'", h="\u00e9"))
    write("form", "escapes", form(0, 0, '<script>"&\'</script>', "s > t",
                                  "tok\"en", "e\"n", expires=1700001200))
    write("form", "names-long", form(0, 0, "q", "s", "t", "fr",
                                     a="&" * 64, t='"' * 64, h="<" * 64))
    write("form", "names-too-long", form(0, 0, "q", "s", "t", "en",
                                         a="a" * 65))
    write("form", "names-duplicate", form(0, 0, "q", "s", "t", "en",
                                          a="x", t="x"))
    write("form", "names-control", form(0, 0, "q", "s", "t", "en",
                                        a="a\tb"))
    write("form", "names-null", form(2 | 4 | 8, 0, "q", "s", "t", "ru"))
    write("form", "no-config", form(16, 0, "q", "s", "t", "de"))
    write("form", "bad-utf8", form(0, 0, b"\xff\xfe".decode("latin-1"),
                                   "s", "t", "en"))
    write("form", "bad-utf8-raw",
          bytes([0, 0]) + b"q\xc3\0s\0t\0en\0a\0b\0c\0" + bytes(8))
    write("form", "unterminated", form(32, 0, "q", "s", "t", "en"))
    write("form", "expiry-too-big", form(0, 0, "q", "s", "t", "en",
                                         expires=2 ** 63))
    write("form", "long-question", form(0, 0, "&" * 300, '"' * 300,
                                        "<" * 200, "es"))


# ---- token-differential ----

def differential_seeds():
    def diff(flags, key=bytes(range(32)), guard_id=1, token_id=2,
             min_solve=5, skew=60, now=1700000010, a=-10, b=1200,
             nonce=bytes(16), locale=0, answer=19, attempts=(),
             binding="post-42", strings=()):
        out = bytes([flags]) + key + struct.pack(
            "<IIIIQ", guard_id, token_id, min_solve, skew, now)
        if flags & 2:
            out += struct.pack("<QQ", a, b)
        else:
            out += struct.pack("<qQ", a, b)
        out += nonce + bytes([locale]) + struct.pack("<I", answer)
        for f, step, pos, value in attempts:
            out += struct.pack("<BIBB", f, step, pos, value)
        return out + nul(binding, *strings)

    one = ((0, 0, 0, 0),)
    write("token-differential", "pass", diff(0, attempts=one))
    write("token-differential", "replayed",
          diff(1 << 5, attempts=((0, 0, 0, 0), (0, 1, 0, 0))))
    write("token-differential", "wrong-then-replayed",
          diff(2 << 5, attempts=((2, 0, 0, 0), (0, 1, 0, 0), (0, 2000, 0, 0)),
               strings=("", "20", "", "", "", "", "", "", "")))
    write("token-differential", "other-key-id", diff(1, attempts=one))
    write("token-differential", "any-times",
          diff(2, now=2 ** 64 - 1000, a=2 ** 64 - 900, b=2 ** 64 - 1,
               skew=2 ** 32 - 1, min_solve=2 ** 32 - 2, attempts=one))
    write("token-differential", "never-expires",
          diff(2 | 1 << 5, a=1700000000, b=2 ** 64 - 1,
               attempts=((0, 0, 0, 0), (0, 1, 0, 0))))
    write("token-differential", "past-int64",
          diff(2, now=2 ** 63 + 5, a=2 ** 63, b=2 ** 64 - 1, attempts=one))
    write("token-differential", "small-times",
          diff(4, now=100, a=-50, b=300, attempts=one))
    write("token-differential", "unknown-locale",
          diff(8, locale=7, attempts=one))
    write("token-differential", "large-answer",
          diff(16, answer=123456, attempts=((2, 0, 0, 0),),
               strings=("", "123456", "")))
    write("token-differential", "words-answer",
          diff(0, locale=2, attempts=((2, 0, 0, 0),),
               strings=("", "neunzehn", "")))
    write("token-differential", "other-binding",
          diff(0, attempts=((1, 0, 0, 0),), strings=("post-43", "", "")))
    write("token-differential", "altered-byte",
          diff(3 << 5, attempts=((4, 0, 60, 1), (4, 0, 30, 0x80),
                                 (4, 0, 0, 2), (0, 0, 0, 0))))
    write("token-differential", "altered-char",
          diff(1 << 5, attempts=((8, 0, 93, ord("B")), (8, 0, 5, 0xff))))
    write("token-differential", "other-text",
          diff(0, attempts=((16, 0, 0, 0),),
               strings=("", "", "AQAAAAEAAAAAZVPxAAAAAABlU_Ww")))
    write("token-differential", "time-travel",
          diff(3 << 5, attempts=((0, 0, 0, 0), (32, 2 ** 32 - 3000, 0, 0),
                                 (32, 5000, 0, 0), (0, 100000, 0, 0))))
    write("token-differential", "too-fast", diff(0, a=0, attempts=one))
    write("token-differential", "future", diff(0, a=100, attempts=one))


def main():
    token_seeds()
    answer_seeds()
    numwords_seeds()
    tokenize_seeds()
    jsonl_seeds()
    store_url_seeds()
    client_key_seeds()
    form_seeds()
    differential_seeds()


if __name__ == "__main__":
    main()
