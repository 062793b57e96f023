<?php

/**
 * A blog post with a comment form that replyguard protects: the form's
 * challenge from Challenge::html(), and each POST judged by
 * Guard::judge(), which runs the rate limit, the honeypot and the
 * challenge, and answers accept, moderate or reject.
 *
 *     php -d ffi.enable=1 -S 127.0.0.1:8081 examples/php/comment-form.php
 *
 * then open http://127.0.0.1:8081/. PHP's default ffi.enable=preload keeps
 * FFI from scripts of a server, the built-in one too: -d ffi.enable=1 lets
 * it through (a production server preloads the binding instead; see
 * bindings/php/README.md). From the build tree, set REPLYGUARD_LIBRARY and
 * REPLYGUARD_HEADER first (see quickstart.php).
 *
 * PHP's built-in server runs this script afresh for every request, as
 * php-fpm does, so nothing can live in memory between requests: the key
 * file and the stores are files in a data directory (REPLYGUARD_EXAMPLE_DATA,
 * else replyguard-comment-form under the temporary directory), made on
 * the first request. That is also what a real site needs: one key file
 * for all its servers, and sqlite: (one machine) or redis:// (several)
 * stores, so that a token spent in one worker is spent in all of them.
 *
 * Comments are kept in comments.json there; a moderated one goes to
 * held.json. Every text from a visitor is escaped with htmlspecialchars().
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require __DIR__ . '/../../bindings/php/src/autoload.php';

use ReplyGuard\Action;
use ReplyGuard\Decision;
use ReplyGuard\Guard;
use ReplyGuard\Limiter;
use ReplyGuard\Policy;

/** What the challenge's token is bound to: this post's comment form. */
const BINDING = 'post-1|comments';

/** Why a comment was refused, in words a visitor understands. */
const REASONS = [
    'honeypot' => 'The form was filled in by a program, it seems.',
    'captcha_wrong' => 'The answer to the question was not right.',
    'captcha_expired' => 'The question had expired. Here is a new one.',
    'captcha_too_fast' => 'That was quicker than a person types. Please take a moment and send it again.',
    'captcha_replayed' => 'That question was already answered once. Here is a new one.',
    'captcha_forged' => 'The question did not come from this page.',
    'captcha_malformed' => 'The question was missing. Please answer the one below.',
    'rate_limited' => 'You are commenting very often. Please wait a little.',
    'spam' => 'The comment looks like spam.',
    'unsure' => 'The comment will be checked by a moderator.',
    'store_unavailable' => 'The comment will be checked by a moderator.',
];

/** Text for HTML, attribute values included. */
function h(?string $s): string
{
    return htmlspecialchars($s ?? '', ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/** The data directory, made on first use with a fresh key file. */
function dataDir(): string
{
    $env = getenv('REPLYGUARD_EXAMPLE_DATA');
    $dir = is_string($env) && $env !== '' ? $env : sys_get_temp_dir() . '/replyguard-comment-form';
    if (!is_dir($dir)) {
        mkdir($dir, 0700, true);
    }
    $key = "$dir/site.key";
    if (!is_file($key)) {
        // Written under another name, then renamed: two first requests at
        // once must not each make a key.
        $tmp = tempnam($dir, 'key-');
        chmod($tmp, 0600);
        file_put_contents($tmp, Guard::generateKeyFile());
        if (!is_file($key)) {
            rename($tmp, $key);
        } else {
            unlink($tmp);
        }
    }
    return $dir;
}

/**
 * A JSON list in the data directory, read or appended to under a lock.
 *
 * @param array<string, string>|null $append
 *
 * @return list<array<string, string>>
 */
function comments(string $file, ?array $append = null): array
{
    $f = fopen($file, 'c+');
    flock($f, $append === null ? LOCK_SH : LOCK_EX);
    $list = json_decode((string) stream_get_contents($f), true) ?: [];
    if ($append !== null) {
        $list[] = $append;
        ftruncate($f, 0);
        rewind($f);
        fwrite($f, json_encode($list, JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT));
    }
    fclose($f);
    return $list;
}

/**
 * The page: the post, its comments, an outcome if any, and the form with
 * a fresh challenge (holding what the visitor wrote, after a refusal).
 *
 * @param array<string, string> $fields
 */
function page(Guard $guard, string $dir, array $fields = [], ?Decision $decision = null, string $notice = ''): void
{
    $challenge = $guard->issue(BINDING);
    $comments = comments("$dir/comments.json");
    header('Content-Type: text/html; charset=utf-8');
    // Nothing on the page is inline script or style, so this holds.
    header("Content-Security-Policy: default-src 'self'; form-action 'self'");
    ?>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Notes from the allotment</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<main>
<article>
<h1>Notes from the allotment</h1>
<p>The first frost came early this year. The leeks did not mind; the
courgettes did. Next spring the beds get a layer of compost a month
before planting, and the runner beans go in along the south fence.</p>
</article>

<section id="comments">
<h2><?= count($comments) ?> <?= count($comments) === 1 ? 'comment' : 'comments' ?></h2>
    <?php foreach ($comments as $c) : ?>
<div class="comment">
        <?php if (($c['url'] ?? '') !== '') : ?>
<p class="who"><a href="<?= h($c['url']) ?>" rel="nofollow ugc"><?= h($c['author']) ?></a></p>
        <?php else : ?>
<p class="who"><?= h($c['author']) ?></p>
        <?php endif ?>
<p><?= nl2br(h($c['body'])) ?></p>
</div>
    <?php endforeach ?>
</section>

<section>
<h2>Leave a Reply</h2>
    <?php if ($notice !== '') : ?>
<p class="notice" role="status"><?= h($notice) ?></p>
    <?php endif ?>
    <?php if ($decision !== null && $decision->action === Action::Reject) : ?>
<div class="refused" role="alert">
<p>Your comment was not published.</p>
<ul>
        <?php foreach ($decision->reasons as $reason) : ?>
<li><?= h(REASONS[$reason] ?? $reason) ?></li>
        <?php endforeach ?>
        <?php if ($decision->retryAfterMs > 0) : ?>
<li>You can send it again in <?= (int) ceil($decision->retryAfterMs / 1000) ?> seconds.</li>
        <?php endif ?>
</ul>
<p>What you wrote is still in the form below.</p>
</div>
    <?php endif ?>
<form method="post" action="/#reply" id="reply">
<p><label for="author">Name</label>
<input type="text" id="author" name="author" required maxlength="100" autocomplete="name"
  value="<?= h($fields['author'] ?? '') ?>"></p>
<p><label for="email">Email (not published)</label>
<input type="email" id="email" name="email" maxlength="200" autocomplete="email"
  value="<?= h($fields['email'] ?? '') ?>"></p>
<p><label for="url">Website</label>
<input type="url" id="url" name="url" maxlength="200" autocomplete="url"
  value="<?= h($fields['url'] ?? '') ?>"></p>
<p><label for="comment">Comment</label>
<textarea id="comment" name="comment" required rows="6"
  maxlength="5000"><?= h($fields['comment'] ?? '') ?></textarea></p>
    <?php /* The question, its answer box, the token and the honeypot, escaped by the library. */ ?>
    <?= $challenge->html() ?>

<p><button type="submit">Post Comment</button></p>
</form>
</section>
</main>
</body>
</html>
    <?php
}

/** A POST: judge it, then publish, hold, or show the form again. */
function post(Guard $guard, Policy $policy, string $dir): void
{
    $field = static fn (string $name): string => is_string($_POST[$name] ?? null) ? $_POST[$name] : '';
    $fields = [
        'author' => $field('author'),
        'email' => $field('email'),
        'url' => $field('url'),
        'comment' => $field('comment'),
    ];
    $decision = $guard->judge([
        'author' => $fields['author'],
        'email' => $fields['email'],
        'url' => $fields['url'],
        'body' => $fields['comment'],
        'answer' => $field('rg_answer'),
        'token' => $field('rg_token'),
        'honeypot' => $field('rg_note'),
        'client' => (string) ($_SERVER['REMOTE_ADDR'] ?? ''),
        'binding' => BINDING,
    ], $policy);

    if ($decision->action === Action::Reject) {
        if (in_array('rate_limited', $decision->reasons, true)) {
            http_response_code(429);
            header('Retry-After: ' . (int) ceil($decision->retryAfterMs / 1000));
        } else {
            http_response_code(422);
        }
        page($guard, $dir, $fields, $decision);
        return;
    }
    $comment = [
        'author' => $fields['author'],
        'url' => preg_match('~^https?://~i', $fields['url']) === 1 ? $fields['url'] : '',
        'body' => $fields['comment'],
        'at' => gmdate('c'),
    ];
    if ($decision->action === Action::Accept) {
        comments("$dir/comments.json", $comment);
        header('Location: /?published=1#comments', true, 303);
    } else {
        comments("$dir/held.json", $comment + ['reasons' => implode(' ', $decision->reasons)]);
        header('Location: /?held=1#reply', true, 303);
    }
}

$path = parse_url((string) ($_SERVER['REQUEST_URI'] ?? '/'), PHP_URL_PATH);
if ($path === '/style.css') {
    header('Content-Type: text/css');
    echo <<<'CSS'
    body { font: 17px/1.5 Georgia, serif; margin: 0; color: #222; }
    main { max-width: 38rem; margin: 2rem auto; padding: 0 1rem; }
    label { display: block; font-weight: bold; }
    input[type=text], input[type=email], input[type=url], textarea {
        width: 100%; box-sizing: border-box; font: inherit;
    }
    .comment { border-top: 1px solid #ddd; }
    .who { font-weight: bold; margin-bottom: 0; }
    .refused { border-left: 4px solid #b00; padding-left: 1rem; }
    .notice { border-left: 4px solid #070; padding-left: 1rem; }
    .rg-hp { display: none !important; }
    CSS;
    return;
}
if ($path !== '/') {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "Not found\n";
    return;
}

$dir = dataDir();
$guard = new Guard(keyFile: "$dir/site.key", store: "sqlite:$dir/replay.sqlite");
$policy = new Policy(
    // Five comments at once, then one a minute, per address (IPv6 by /64).
    limiter: new Limiter("sqlite:$dir/limits.sqlite", 1 / 60, 4),
    // Each wrong answer makes the next one wait 10 s longer (up to 300 s).
    failures: new Limiter("sqlite:$dir/limits.sqlite", 1 / 600, 9, name: 'failures'),
    // A content filter trained from your moderation goes here:
    // bayes: new ReplyGuard\Bayes("sqlite:$dir/model.sqlite"),
);

if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
    post($guard, $policy, $dir);
} else {
    $notice = isset($_GET['published']) ? 'Thank you: your comment is published.'
        : (isset($_GET['held']) ? 'Thank you: your comment will appear once a moderator has read it.' : '');
    page($guard, $dir, notice: $notice);
}
