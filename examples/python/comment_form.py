#!/usr/bin/env python3
"""A complete blog comment form protected by replyguard, on wsgiref.

    python3 examples/python/comment_form.py [--port 8000] [--host 127.0.0.1]
                                            [--model URL]

GET / shows a post, its comments and the "Leave a Reply" form, whose
challenge part comes from Challenge.html(). POST / judges the comment
with Guard.judge(): the rate limits, the honeypot, the challenge and, with
--model, the content filter. An accepted comment is published, a
moderated one held; a rejected one shows the form again with the
author's text and a fresh question. Only POST changes anything.

The key comes from the file named by REPLYGUARD_KEY_FILE; without it a
fresh key is written to a temporary file, removed at exit. --model names
a content filter's model ("sqlite:model.sqlite", trained with
`captcha-check train`); without it the filter is off.

The client's address is REMOTE_ADDR. Behind a reverse proxy that is the
proxy's address: take the client's from the proxy's header instead, and
only from a proxy you trust.
"""

from __future__ import annotations

import argparse
import html
import os
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer, make_server

import replyguard
from replyguard import Action, Bayes, Guard, Limiter, Policy, Submission

#: The post this example shows; a real blog has one binding per post.
POST_ID = "post-1"
#: What every challenge on this form is bound to: a token issued for one
#: post's form is refused on another's.
BINDING = f"{POST_ID}|comments"

#: Bounds on what a client may send.
MAX_REQUEST_BYTES = 64 * 1024
MAX_COMMENT_CHARS = 5000
MAX_FIELD_CHARS = 200

#: What a reader is told about each reason of a rejection.
REASON_TEXT = {
    "honeypot": "Your comment was taken for an automated one.",
    "captcha_wrong": "That answer was not right. Please try this question.",
    "captcha_expired": "The question had expired. Please answer this one.",
    "captcha_too_fast": (
        "That was quicker than anyone can read the question. Please take "
        "a few seconds before sending."
    ),
    "captcha_replayed": "This form had already been sent. Please send it "
    "again with this question.",
    "captcha_forged": "The form was damaged. Please answer this question.",
    "captcha_malformed": "The form was damaged. Please answer this question.",
    "rate_limited": "You are commenting too often.",
    "spam": "Your comment looks like spam.",
    "unsure": "Your comment will be checked by a moderator.",
    "store_unavailable": "We could not check your comment right now.",
}

STYLESHEET = b"""\
body { font: 17px/1.5 Georgia, serif; max-width: 40em; margin: 2em auto;
       padding: 0 1em; color: #222; }
.note { padding: .5em 1em; border-left: 4px solid #888; background: #f4f4f4; }
.note.error { border-color: #b00; }
label { display: block; margin-top: .8em; }
input[type=text], input[type=email], input[type=url], textarea { width: 100%;
       font: inherit; }
textarea { min-height: 8em; }
article.comment { border-top: 1px solid #ddd; padding: .5em 0; }
"""

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class PublishedComment:
    """A comment on the page (or in the moderation queue)."""

    author: str
    url: str
    body: str


def _esc(text: str) -> str:
    """HTML-escapes text for an element or a quoted attribute."""
    return html.escape(text, quote=True)


def _link(url: str) -> Optional[str]:
    """The author's URL, if it is an http(s) link worth showing."""
    lowered = url.strip().lower()
    if lowered.startswith(("http://", "https://")):
        return url.strip()
    return None


def _paragraphs(text: str) -> str:
    """A comment's text as escaped paragraphs, one per blank line."""
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n")]
    return "\n".join(
        "<p>" + _esc(b).replace("\n", "<br>\n") + "</p>" for b in blocks if b
    )


class _Refused(Exception):
    """A request refused before judging, with its HTTP status."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CommentApp:
    """The WSGI application: one post, its comments, and the form.

    The guard and the policy's handles are thread-safe and shared by
    every request; the comment lists are the only state of the app's own,
    and a lock guards them.
    """

    def __init__(self, guard: Guard, policy: Optional[Policy] = None) -> None:
        self.guard = guard
        self.policy = policy
        self._lock = threading.Lock()
        self._published: List[PublishedComment] = []
        self._held: List[PublishedComment] = []

    # ---- WSGI. ---------------------------------------------------------

    def __call__(self, environ: Environ,
                 start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == "/style.css" and method in ("GET", "HEAD"):
            return self._respond(start_response, "200 OK", STYLESHEET,
                                 content_type="text/css; charset=utf-8",
                                 head=method == "HEAD", cache=True)
        if path != "/":
            return self._page(start_response, "404 Not Found",
                              "<p>There is nothing here.</p>",
                              head=method == "HEAD")
        if method in ("GET", "HEAD"):
            return self._show(environ, start_response, head=method == "HEAD")
        if method == "POST":
            return self._post(environ, start_response)
        return self._page(start_response, "405 Method Not Allowed",
                          "<p>Only GET and POST are served here.</p>",
                          extra=[("Allow", "GET, HEAD, POST")])

    # ---- GET. ----------------------------------------------------------

    def _show(self, environ: Environ, start_response: StartResponse,
              head: bool = False) -> Iterable[bytes]:
        """The post, its comments and a form with a fresh challenge. The
        query string only picks a message; nothing here changes state."""
        query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=4)
        posted = query.get("posted", [""])[0]
        note = ""
        if posted == "published":
            note = '<p class="note" role="status">Thank you: your comment ' \
                   "is published.</p>"
        elif posted == "held":
            note = '<p class="note" role="status">Thank you: your comment ' \
                   "will appear once a moderator has seen it.</p>"
        return self._page(start_response, "200 OK",
                          self._article() + note + self._form({}, []),
                          head=head)

    # ---- POST. ---------------------------------------------------------

    def _post(self, environ: Environ,
              start_response: StartResponse) -> Iterable[bytes]:
        """Judges one comment and publishes, holds or refuses it."""
        try:
            form = self._read_form(environ)
        except _Refused as refused:
            return self._page(start_response, refused.status,
                              f"<p>{_esc(refused.message)}</p>")

        body = form.get("comment", "")
        author = form.get("author", "")
        problems = []
        if not body.strip():
            problems.append("Please write a comment.")
        if not author.strip():
            problems.append("Please give your name.")
        if len(body) > MAX_COMMENT_CHARS:
            problems.append(f"Please keep to {MAX_COMMENT_CHARS} characters.")
        if any(len(form.get(k, "")) > MAX_FIELD_CHARS
               for k in ("author", "email", "url")):
            problems.append("The name, e-mail or website is too long.")
        if problems:
            # Not judged, so the token is not spent; a fresh question is
            # simpler than carrying the old one's text along.
            return self._page(start_response, "400 Bad Request",
                              self._article() + self._form(form, problems))

        submission = Submission(
            body=body,
            author=author,
            email=form.get("email", ""),
            url=form.get("url", ""),
            token=form.get("rg_token", ""),
            answer=form.get("rg_answer", ""),
            honeypot=form.get("rg_note", ""),
            client=environ.get("REMOTE_ADDR", ""),
            binding=BINDING,
        )
        try:
            decision = self.guard.judge(submission, self.policy)
        except replyguard.AddressError:
            return self._page(start_response, "400 Bad Request",
                              "<p>Your address could not be read.</p>")

        comment = PublishedComment(author=author.strip(),
                                   url=form.get("url", ""), body=body)
        if decision.action is Action.ACCEPT:
            with self._lock:
                self._published.append(comment)
            return self._redirect(start_response, "/?posted=published#c")
        if decision.action is Action.MODERATE:
            with self._lock:
                self._held.append(comment)
            return self._redirect(start_response, "/?posted=held")

        # Rejected: the form again, with what the author wrote and why.
        messages = []
        for reason in decision.reasons:
            text = REASON_TEXT.get(reason, "Your comment was not accepted.")
            if text not in messages:
                messages.append(text)
        extra: List[Tuple[str, str]] = []
        status = "400 Bad Request"
        if "rate_limited" in decision.reasons:
            seconds = max(1, -(-decision.retry_after_ms // 1000))
            messages.append(f"Please try again in {seconds} seconds.")
            status = "429 Too Many Requests"
            extra.append(("Retry-After", str(seconds)))
        return self._page(start_response, status,
                          self._article() + self._form(form, messages),
                          extra=extra)

    @staticmethod
    def _read_form(environ: Environ) -> Dict[str, str]:
        """The posted fields, the first value of each; _Refused for a
        request that is not a form a browser sends."""
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise _Refused("415 Unsupported Media Type",
                           "Send the form as a web browser does.")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            raise _Refused("413 Payload Too Large",
                           "That was more than a comment form sends.")
        raw = environ["wsgi.input"].read(length)
        fields = parse_qs(raw.decode("utf-8", "replace"),
                          keep_blank_values=True, max_num_fields=20)
        return {name: values[0] for name, values in fields.items()}

    # ---- HTML. ---------------------------------------------------------

    def _article(self) -> str:
        """The post and its published comments, every text escaped."""
        with self._lock:
            published = list(self._published)
        parts = [
            "<article><h1>A walk along the river</h1>",
            "<p>The river was high after a week of rain, and the path by the"
            " mill was under water, so we went up through the beech wood "
            "instead.</p></article>",
            f'<section id="c"><h2>{len(published)} comments</h2>',
        ]
        for c in published:
            name = _esc(c.author)
            link = _link(c.url)
            if link:
                name = (f'<a href="{_esc(link)}" rel="nofollow ugc noopener">'
                        f"{name}</a>")
            parts.append(f'<article class="comment"><p><b>{name}</b> '
                         f"says:</p>{_paragraphs(c.body)}</article>")
        parts.append("</section>")
        return "\n".join(parts)

    def _form(self, values: Dict[str, str], messages: List[str]) -> str:
        """The comment form with the author's values and a fresh
        challenge. Every value is escaped."""
        challenge = self.guard.issue(binding=BINDING)

        def value(name: str) -> str:
            return _esc(values.get(name, ""))

        notes = "".join(
            f'<p class="note error" role="alert">{_esc(m)}</p>'
            for m in messages
        )
        return (
            '<section><h2 id="reply">Leave a Reply</h2>\n'
            f"{notes}\n"
            '<form method="post" action="/" aria-labelledby="reply">\n'
            '<label for="author">Name</label>\n'
            '<input type="text" id="author" name="author" required '
            f'maxlength="{MAX_FIELD_CHARS}" value="{value("author")}">\n'
            '<label for="email">E-mail (not published)</label>\n'
            '<input type="email" id="email" name="email" '
            f'maxlength="{MAX_FIELD_CHARS}" value="{value("email")}">\n'
            '<label for="url">Website</label>\n'
            '<input type="url" id="url" name="url" '
            f'maxlength="{MAX_FIELD_CHARS}" value="{value("url")}">\n'
            '<label for="comment">Comment</label>\n'
            '<textarea id="comment" name="comment" required '
            f'maxlength="{MAX_COMMENT_CHARS}">{value("comment")}</textarea>\n'
            f"{challenge.html()}\n"
            '<p><button type="submit">Post Comment</button></p>\n'
            "</form></section>"
        )

    def _page(self, start_response: StartResponse, status: str,
              content: str, extra: Optional[List[Tuple[str, str]]] = None,
              head: bool = False) -> Iterable[bytes]:
        page = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\">"
            "<title>A walk along the river</title>"
            "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n"
            f"<body>\n<main>\n{content}\n</main>\n</body></html>\n"
        )
        return self._respond(start_response, status, page.encode("utf-8"),
                             extra=extra, head=head)

    @staticmethod
    def _redirect(start_response: StartResponse,
                  location: str) -> Iterable[bytes]:
        """303 See Other: the browser shows the outcome with a GET, so a
        reload does not send the comment again."""
        return CommentApp._respond(start_response, "303 See Other", b"",
                                   extra=[("Location", location)])

    @staticmethod
    def _respond(start_response: StartResponse, status: str, body: bytes,
                 content_type: str = "text/html; charset=utf-8",
                 extra: Optional[List[Tuple[str, str]]] = None,
                 head: bool = False, cache: bool = False) -> Iterable[bytes]:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            # Nothing inline runs: the challenge's fragment needs no
            # script and no style attribute.
            ("Content-Security-Policy",
             "default-src 'none'; style-src 'self'; form-action 'self'; "
             "base-uri 'none'; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            # A cached page would carry a spent token.
            ("Cache-Control", "max-age=3600" if cache else "no-store"),
        ]
        headers.extend(extra or [])
        start_response(status, headers)
        return [] if head else [body]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread a request: the handles are shared."""

    daemon_threads = True


def _write_key(directory: str) -> str:
    """A fresh key file in `directory`, readable by its owner only."""
    path = os.path.join(directory, "site.key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(replyguard.generate_key_file())
    return path


def _stop(signum: int, frame: Any) -> None:
    """Turns SIGTERM into KeyboardInterrupt, which ends serve_forever()."""
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    """Serves the comment form until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default 8000)")
    parser.add_argument("--model", help='content filter model, such as '
                        '"sqlite:model.sqlite" (default: no filter)')
    args = parser.parse_args(argv)
    # A polite stop (SIGTERM, as service managers send) ends like Ctrl-C,
    # so the temporary key is removed and the handles are freed.
    signal.signal(signal.SIGTERM, _stop)

    with tempfile.TemporaryDirectory(prefix="replyguard-") as scratch:
        key_file = os.environ.get("REPLYGUARD_KEY_FILE") or _write_key(scratch)
        # Five comments at once, then one a minute, per client (an IPv6
        # client per /64); each failed challenge costs three of them and
        # adds ten seconds to that client's time trap.
        with Guard(key_file=key_file) as guard, \
                Limiter(rate=1 / 60, burst=4) as per_client, \
                Limiter(rate=1 / 600, burst=9) as failures:
            policy = Policy(limiter=per_client, failures=failures)
            bayes = Bayes(args.model) if args.model else None
            policy.bayes = bayes
            app = CommentApp(guard, policy)
            with make_server(args.host, args.port, app,
                             server_class=ThreadingWSGIServer) as httpd:
                print(f"Serving the comment form on "
                      f"http://{args.host}:{args.port}/ (Ctrl-C stops)",
                      flush=True)
                try:
                    httpd.serve_forever()
                except KeyboardInterrupt:
                    pass
            if bayes is not None:
                bayes.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
