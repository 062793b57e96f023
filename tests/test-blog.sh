#!/usr/bin/env bash
# The example blog engine (examples/blog) over HTTP, with curl: the page and
# its form, /captcha, each decision of the comment form, the moderation
# queue behind its password, the security headers, the limits on input and
# methods, and a clean stop on SIGINT and SIGTERM.
#
#   tests/test-blog.sh build/examples/blog/replyguard-blog
set -uo pipefail

blog=${1:?usage: test-blog.sh REPLYGUARD_BLOG}
command -v curl >/dev/null || { echo "curl is missing"; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

failed=0
passed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }

# Starts the blog on a free port (port 0: the kernel picks one, the blog
# prints it) and sets $url and $password.
start() {
  : >"$dir/out"
  "$blog" --listen 127.0.0.1:0 --db "$dir/blog.db" --key "$dir/blog.key" \
    --style digits --min-solve 1 --rate 600 --burst 200 --escalate 0 \
    >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q 'password' "$dir/out" && break
    sleep 0.05
  done
  url=$(sed -n 's/.*serving \(http:[^ ]*\) .*/\1/p' "$dir/out")
  password=$(sed -n 's/.*user admin, password \([^ ]*\)$/\1/p' "$dir/out")
  if [ -z "$url" ]; then
    echo "the blog did not start:"
    cat "$dir/out" "$dir/err"
    exit 1
  fi
}

# Stops the blog with a signal; true when it exits 0 within five seconds.
stop_with() {
  kill "-$1" "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  wait "$pid"
  local rc=$?
  pid=
  [ "$rc" -eq 0 ]
}

# Reads the form of a page into $question, $token and $answer.
read_form() {
  question=$(sed -n 's/.*<label for="rg_answer">\([^<]*\)<\/label>.*/\1/p' "$1")
  token=$(sed -n 's/.*name="rg_token" value="\([^"]*\)".*/\1/p' "$1")
  # Digits style: "19 − 1 =", "What is 4 times 5?", "How much is 3 plus
  # 9?".
  local expr=$question
  expr=${expr#What is }
  expr=${expr#How much is }
  expr=${expr%\?}
  expr=${expr% =}
  expr=${expr//−/-}
  expr=${expr//×/*}
  expr=${expr//minus/-}
  expr=${expr//plus/+}
  expr=${expr//times/*}
  answer=$((expr))
}

# post FILE-PREFIX FIELD=VALUE...: posts the comment form; the body goes
# to PREFIX.html, the headers to PREFIX.head, the status to $status.
post() {
  local prefix=$1
  shift
  local args=()
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  status=$(curl -s -o "$prefix.html" -D "$prefix.head" -w '%{http_code}' \
    "${args[@]}" "${url}comment")
}

start
check "the start prints the admin password" test -n "$password"

# ---- The page and its form.
code=$(curl -s -o "$dir/page.html" -D "$dir/page.head" -w '%{http_code}' \
  "$url")
check "GET / answers 200" test "$code" = 200
for f in author email url comment rg_answer rg_token; do
  check "the form has the field $f" has "$dir/page.html" "name=\"$f\""
done
check "the honeypot is rg_note by default" has "$dir/page.html" 'name="rg_note"'
check "the question is the answer box's label" \
  grep -q '<label for="rg_answer">[^<]*[0-9][^<]*</label>' "$dir/page.html"
check "the seeded comments are on the page" has "$dir/page.html" "Oskar"
check "no inline script" bash -c "! grep -q '<script>' '$dir/page.html'"
check "CSP with frame-ancestors 'none'" \
  grep -qi "^content-security-policy:.*frame-ancestors 'none'" \
  "$dir/page.head"
check "CSP without unsafe-inline" \
  bash -c "! grep -qi 'unsafe-inline' '$dir/page.head'"
check "X-Content-Type-Options: nosniff" \
  grep -qi '^x-content-type-options: nosniff' "$dir/page.head"
check "X-Frame-Options: DENY" grep -qi '^x-frame-options: deny' \
  "$dir/page.head"
check "the page is not cached" grep -qi '^cache-control: .*no-store' \
  "$dir/page.head"

# ---- GET /captcha.
code=$(curl -s -o "$dir/captcha.json" -D "$dir/captcha.head" \
  -w '%{http_code}' "${url}captcha")
check "GET /captcha answers 200" test "$code" = 200
check "/captcha is JSON" grep -qi '^content-type: application/json' \
  "$dir/captcha.head"
check "/captcha has a question" grep -q '"question":"[^"]*[0-9][^"]*"' \
  "$dir/captcha.json"
check "/captcha has a token" grep -q '"token":"[A-Za-z0-9_-]\{40,\}"' \
  "$dir/captcha.json"

# ---- A right answer, after the time trap: published at once, escaped.
read_form "$dir/page.html"
sleep 1.2
post "$dir/good" "author=Ann <script>x</script>" "email=ann@example.org" \
  "url=https://example.org/ann" "comment=Proved overnight, good-7431." \
  "rg_answer=$answer" "rg_token=$token" "rg_note="
check "a right answer is accepted (303)" test "$status" = 303
check "to the comment" grep -qi '^location: /#comment-[0-9]' "$dir/good.head"
curl -s -o "$dir/after.html" "$url"
check "the comment appears at once" has "$dir/after.html" "good-7431"
check "its author is escaped" has "$dir/after.html" \
  "Ann &lt;script&gt;x&lt;/script&gt;"

# ---- The same POST again: replayed.
post "$dir/replay" "author=Ann <script>x</script>" "email=ann@example.org" \
  "url=https://example.org/ann" "comment=Proved overnight, good-7431." \
  "rg_answer=$answer" "rg_token=$token" "rg_note="
check "a replayed POST is refused" has "$dir/replay.html" "already been sent"
check "and gets a fresh question" bash -c \
  "grep -q 'name=\"rg_token\" value=' '$dir/replay.html' &&
   ! grep -qF '$token' '$dir/replay.html'"
curl -s -o "$dir/after.html" "$url"
check "and is not published twice" test \
  "$(grep -c 'good-7431' "$dir/after.html")" = 1

# ---- A wrong answer: the text is kept, the reason said, a new question.
curl -s -o "$dir/page.html" "$url"
read_form "$dir/page.html"
sleep 1.2
post "$dir/wrong" "author=Bo" "email=bo@example.org" "url=" \
  "comment=Kept <b>text</b> & more, wrong-5512" \
  "rg_answer=$((answer + 1))" "rg_token=$token" "rg_note="
check "a wrong answer redisplays the form" test "$status" = 200
check "with the reason in plain words" has "$dir/wrong.html" "was not right"
check "with the comment kept, escaped" has "$dir/wrong.html" \
  "Kept &lt;b&gt;text&lt;/b&gt; &amp; more, wrong-5512"
check "with the name and e-mail kept" bash -c \
  "grep -qF 'value=\"Bo\"' '$dir/wrong.html' &&
   grep -qF 'value=\"bo@example.org\"' '$dir/wrong.html'"
check "with a fresh question" bash -c \
  "grep -q 'name=\"rg_token\" value=' '$dir/wrong.html' &&
   ! grep -qF '$token' '$dir/wrong.html'"
check "and not published" lacks "$(curl -s -o "$dir/p.html" "$url"; \
  echo "$dir/p.html")" "wrong-5512"

# ---- Too fast: the time trap. Tokens count whole seconds, so the page is
# fetched just after a second begins and answered at once.
second=$(date +%s)
while [ "$(date +%s)" = "$second" ]; do sleep 0.01; done
curl -s -o "$dir/page.html" "$url"
read_form "$dir/page.html"
post "$dir/fast" "author=Cy" "comment=Too quick, fast-8821" \
  "rg_answer=$answer" "rg_token=$token" "rg_note="
check "an answer sooner than --min-solve is refused" has "$dir/fast.html" \
  "sooner after the form appeared"
check "with the comment kept" has "$dir/fast.html" "fast-8821"

# ---- The honeypot.
curl -s -o "$dir/page.html" "$url"
read_form "$dir/page.html"
sleep 1.2
post "$dir/hp" "author=Bot" "comment=Buy now, hp-3390" \
  "rg_answer=$answer" "rg_token=$token" "rg_note=http://spam.example"
check "a filled honeypot is refused" has "$dir/hp.html" "hidden field"
curl -s -o "$dir/p.html" "$url"
check "and not published" lacks "$dir/p.html" "hp-3390"

# ---- Two links: held for moderation, and the author told so.
held_comment() { # held_comment MARK
  curl -s -o "$dir/page.html" "$url"
  read_form "$dir/page.html"
  sleep 1.2
  post "$dir/held" "author=Dee" "email=dee@example.org" \
    "comment=See https://a.example and https://b.example $1" \
    "rg_answer=$answer" "rg_token=$token" "rg_note="
}
held_comment "held-6017"
check "a comment with two links is held (303)" test "$status" = 303
check "to the notice" grep -qi '^location: /?held=1' "$dir/held.head"
curl -s -o "$dir/p.html" "${url}?held=1"
check "the author is told it awaits moderation" has "$dir/p.html" \
  "awaiting moderation"
check "a held comment is not published" lacks "$dir/p.html" "held-6017"

# ---- /admin.
code=$(curl -s -o "$dir/a.html" -D "$dir/a.head" -w '%{http_code}' \
  "${url}admin")
check "/admin without the password is 401" test "$code" = 401
check "and asks for basic authentication" \
  grep -qi '^www-authenticate: basic' "$dir/a.head"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "${url}admin")
check "/admin with a wrong password is 401" test "$code" = 401
code=$(curl -s -o "$dir/admin.html" -w '%{http_code}' \
  -u "admin:$password" "${url}admin")
check "/admin with the password is 200" test "$code" = 200
check "the queue holds the held comment" has "$dir/admin.html" "held-6017"
check "today's counts name the layers" has "$dir/admin.html" \
  'data-layer="challenge"><td>Challenge (the question)</td><td>3</td>'
check "today's honeypot count" has "$dir/admin.html" \
  'data-layer="honeypot"><td>Honeypot</td><td>1</td>'
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$dir/admin.html" |
  head -1)
id=$(grep -o 'data-id="[0-9]*"' "$dir/admin.html" | head -1 | tr -dc 0-9)

admin_do() { # admin_do ACTION ID [CSRF]
  curl -s -o "$dir/act.html" -w '%{http_code}' -u "admin:$password" \
    --data-urlencode "csrf=${3-$csrf}" --data-urlencode "id=$2" \
    --data-urlencode "do=$1" "${url}admin/action"
}
code=$(curl -s -o /dev/null -w '%{http_code}' --data "id=$id&do=approve" \
  "${url}admin/action")
check "an action without the password is 401" test "$code" = 401
check "an action without the page's token is 403" \
  test "$(admin_do approve "$id" forged)" = 403
check "approve answers 303" test "$(admin_do approve "$id")" = 303
curl -s -o "$dir/p.html" "$url"
check "an approved comment is published" has "$dir/p.html" "held-6017"
curl -s -u "admin:$password" -o "$dir/admin.html" "${url}admin"
check "and leaves the queue" bash -c \
  "sed -n '/id=\"queue\"/,/<\/section>/p' '$dir/admin.html' |
   grep -q 'Nothing is waiting'"
check "spam answers 303" test "$(admin_do spam "$id")" = 303
curl -s -o "$dir/p.html" "$url"
check "a comment marked spam leaves the page" lacks "$dir/p.html" "held-6017"
curl -s -u "admin:$password" -o "$dir/admin.html" "${url}admin"
check "and is in the spam list" bash -c \
  "sed -n '/id=\"spam\"/,/<\/section>/p' '$dir/admin.html' |
   grep -q 'held-6017'"
check "the filter learned one spam" has "$dir/admin.html" \
  "learned 1 spam and 0 good"
check "ham answers 303" test "$(admin_do ham "$id")" = 303
curl -s -o "$dir/p.html" "$url"
check "a comment marked ham is published again" has "$dir/p.html" \
  "held-6017"
curl -s -u "admin:$password" -o "$dir/admin.html" "${url}admin"
check "and the filter unlearned the spam, learned the ham" \
  has "$dir/admin.html" "learned 0 spam and 1 good"
held_comment "held-7702"
curl -s -u "admin:$password" -o "$dir/admin.html" "${url}admin"
id2=$(grep -o 'data-id="[0-9]*"' "$dir/admin.html" | head -1 | tr -dc 0-9)
check "spam from the queue answers 303" test "$(admin_do spam "$id2")" = 303
curl -s -u "admin:$password" -o "$dir/admin.html" "${url}admin"
check "and empties the queue" bash -c \
  "sed -n '/id=\"queue\"/,/<\/section>/p' '$dir/admin.html' |
   grep -q 'Nothing is waiting'"
check "an unknown action is refused" test "$(admin_do publish "$id")" = 400

# ---- Limits on input, and methods.
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode \
  "comment=$big" "${url}comment")
check "an oversized comment is refused with 413" test "$code" = 413
code=$(head -c 100000 /dev/zero | tr '\0' 'a' |
  curl -s -o /dev/null -w '%{http_code}' --data-binary @- "${url}comment")
check "an oversized body is refused with 413" test "$code" = 413
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode \
  "author=$(head -c 400 /dev/zero | tr '\0' 'n')" "${url}comment")
check "an oversized name is refused with 413" test "$code" = 413
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url")
check "HEAD / answers 200" test "$code" = 200
code=$(curl -s -o /dev/null -D "$dir/m.head" -w '%{http_code}' \
  --data "x=1" "$url")
check "POST / is 405" test "$code" = 405
check "with Allow: GET, HEAD" grep -qi '^allow: GET, HEAD' "$dir/m.head"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}comment")
check "GET /comment is 405" test "$code" = 405
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${url}admin")
check "DELETE /admin is 405" test "$code" = 405
code=$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$password" \
  "${url}admin/action")
check "GET /admin/action is 405" test "$code" = 405
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}nowhere")
check "an unknown page is 404" test "$code" = 404
code=$(curl -s -o /dev/null -D "$dir/js.head" -w '%{http_code}' \
  "${url}static/app.js")
check "the script is served" test "$code" = 200
check "as JavaScript" grep -qi '^content-type: text/javascript' \
  "$dir/js.head"

# ---- Stops cleanly, and keeps its comments.
check "SIGINT stops the blog with status 0" stop_with INT
check "saying so" grep -q 'stopping (SIGINT)' "$dir/out"
start
curl -s -o "$dir/p.html" "$url"
check "the comments outlive a restart" has "$dir/p.html" "good-7431"
check "SIGTERM stops the blog with status 0" stop_with TERM

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
