<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\Action;
use ReplyGuard\AddressException;
use ReplyGuard\Bayes;
use ReplyGuard\BayesResult;
use ReplyGuard\BayesVerdict;
use ReplyGuard\Challenge;
use ReplyGuard\Comment;
use ReplyGuard\Decision;
use ReplyGuard\Exception;
use ReplyGuard\Guard;
use ReplyGuard\InvalidArgumentException;
use ReplyGuard\KeyException;
use ReplyGuard\LimitBy;
use ReplyGuard\Limiter;
use ReplyGuard\LimitResult;
use ReplyGuard\LocaleException;
use ReplyGuard\NotLearnedException;
use ReplyGuard\Policy;
use ReplyGuard\StoreException;
use ReplyGuard\Style;
use ReplyGuard\Submission;
use ReplyGuard\Verdict;

/**
 * Hostile input to every public class and method of the binding: one
 * table whose rows each call one method with what a stranger, or a
 * careless caller, can hand it (null, an int for a string, a float, a
 * huge or negative int, an object, a NUL byte, bytes that are not UTF-8),
 * and name what must come of it: PHP's TypeError or ValueError for a wrong
 * type (this file, like the binding, declares strict_types), the binding's
 * own exceptions for a value the library refuses, or, for the visitor's
 * text, an answer and no exception at all. Never a crash, never an FFI
 * exception.
 *
 * A second test checks that refused calls leave the model, the rate
 * limits and the spent tokens as they were, on memory: and on sqlite:; a
 * third fails when a public method of the binding has no row.
 */
final class HostileTest extends TestCase
{
    private const KEY = '0123456789abcdef0123456789abcdef';
    private const OTHER_KEY = 'abcdefghijklmnopqrstuvwxyz012345';

    /** Text that is not valid UTF-8, or holds NUL bytes, or is huge. */
    private const HOSTILE_TEXT = [
        "a\0b", "\0", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xff\xfe",
        "\xf4\x90\x80\x80", "x\0\xffy",
    ];

    /** What the rows work on; see fixture(). */
    private \stdClass $f;

    /** The classes whose objects only come out of the binding. */
    private const OUT_ONLY = [
        'BayesResult', 'BayesStats', 'Clue', 'Decision', 'LimitResult',
    ];

    /**
     * A guard with a key, a filter with two comments learned, a limiter
     * with one take, a challenge, and scratch files; on `$store` ('memory'
     * or 'sqlite').
     */
    private static function fixture(string $store = 'memory'): \stdClass
    {
        $f = new \stdClass();
        $f->dir = Support::scratch();
        $f->now = 1_700_000_000;
        $clock = static fn (): int => $f->now;
        $url = $store === 'sqlite' ? 'sqlite:' . $f->dir . '/store.sqlite' : 'memory:';
        $model = $store === 'sqlite' ? 'sqlite:' . $f->dir . '/model.sqlite' : 'memory:';
        $f->guard = new Guard(
            keys: [[1, self::KEY, true]],
            store: $url,
            minSolve: 0,
            style: Style::Digits,
            clock: $clock,
        );
        $f->bayes = new Bayes($model);
        $f->bayes->learn('cheap pills at http://pills.example.com', spam: true);
        $f->bayes->learn('a lovely article about gardens', spam: false);
        $f->limiter = new Limiter($url, rate: 1.0, burst: 2, capacity: 16,
            clockNs: static fn (): int => $f->now * 1_000_000_000);
        $f->limiter->take('client-a');
        $f->challenge = $f->guard->issue('post-1');
        $f->garbage = $f->dir . '/garbage';
        $bytes = '';
        for ($i = 0; $i < 4096; $i++) {
            $bytes .= chr(($i * 131 + 7) % 256);
        }
        file_put_contents($f->garbage, $bytes);
        $f->clashing = $f->dir . '/clashing.key';
        file_put_contents($f->clashing, '2 verify ' . self::b64(self::OTHER_KEY)
            . "\n1 sign " . self::b64(self::KEY) . "\n");
        return $f;
    }

    private static function b64(string $key): string
    {
        return rtrim(strtr(base64_encode($key), '+/', '-_'), '=');
    }

    private static function closed(string $kind): Guard|Bayes|Limiter
    {
        $h = match ($kind) {
            'guard' => new Guard(keys: [[1, self::KEY, true]]),
            'bayes' => new Bayes(),
            'limiter' => new Limiter(),
        };
        $h->close();
        return $h;
    }

    /** A check of what a row's call returned (it must not throw). */
    private static function returns(string $what, \Closure $check): array
    {
        return ['returns', $what, $check];
    }

    /**
     * The table: [target, call, wanted], keyed by a description. `wanted`
     * is the class the call must throw, or returns(...).
     *
     * @return array<string, array{string, \Closure, string|array}>
     */
    public static function rows(): array
    {
        $rows = [];
        $row = static function (string $target, string $what, \Closure $call,
            string|array $want) use (&$rows): void {
            $rows["$target: $what"] = [$target, $call, $want];
        };
        $mib = str_repeat('a', 1 << 20);

        // ---- Guard ----
        $row('Guard::__construct', 'store an int', fn ($f) => new Guard(store: 5), \TypeError::class);
        $row('Guard::__construct', 'store null', fn ($f) => new Guard(store: null), \TypeError::class);
        $row('Guard::__construct', 'store with a NUL', fn ($f) => new Guard(store: "memory:\0x"), InvalidArgumentException::class);
        $row('Guard::__construct', 'store malformed', fn ($f) => new Guard(store: 'bogus:'), StoreException::class);
        $row('Guard::__construct', 'store not UTF-8', fn ($f) => new Guard(store: "memory:\xff"), StoreException::class);
        $row('Guard::__construct', 'store empty', fn ($f) => new Guard(store: ''), InvalidArgumentException::class);
        $row('Guard::__construct', 'locale unknown', fn ($f) => new Guard(locale: 'EN'), LocaleException::class);
        $row('Guard::__construct', 'locale not UTF-8', fn ($f) => new Guard(locale: "\xff"), LocaleException::class);
        $row('Guard::__construct', 'locale with a NUL', fn ($f) => new Guard(locale: "en\0"), InvalidArgumentException::class);
        $row('Guard::__construct', 'minSolve a float', fn ($f) => new Guard(minSolve: 1.5), \TypeError::class);
        $row('Guard::__construct', 'minSolve a string', fn ($f) => new Guard(minSolve: '5'), \TypeError::class);
        $row('Guard::__construct', 'minSolve negative', fn ($f) => new Guard(minSolve: -1), InvalidArgumentException::class);
        $row('Guard::__construct', 'minSolve PHP_INT_MAX', fn ($f) => new Guard(minSolve: PHP_INT_MAX), InvalidArgumentException::class);
        $row('Guard::__construct', 'minSolve not below ttl', fn ($f) => new Guard(minSolve: 10, ttl: 10), InvalidArgumentException::class);
        $row('Guard::__construct', 'ttl 0', fn ($f) => new Guard(minSolve: 0, ttl: 0), InvalidArgumentException::class);
        $row('Guard::__construct', 'style a string', fn ($f) => new Guard(style: 'words'), \TypeError::class);
        $row('Guard::__construct', 'clock not callable', fn ($f) => new Guard(clock: 5), \TypeError::class);
        $row('Guard::__construct', 'a clock that returns a string',
            fn ($f) => (new Guard(keys: [[1, self::KEY, true]], clock: fn () => 'now'))->issue(),
            InvalidArgumentException::class);
        $row('Guard::__construct', 'operandMax 1000', fn ($f) => new Guard(operandMax: 1000), InvalidArgumentException::class);
        $row('Guard::__construct', 'operators none', fn ($f) => new Guard(operators: 0), InvalidArgumentException::class);
        $row('Guard::__construct', 'forms negative', fn ($f) => new Guard(forms: -1), InvalidArgumentException::class);
        $row('Guard::__construct', 'clockSkew a float', fn ($f) => new Guard(clockSkew: 0.5), \TypeError::class);
        $row('Guard::__construct', 'keyFile with a NUL', fn ($f) => new Guard(keyFile: $f->garbage . "\0"), InvalidArgumentException::class);
        $row('Guard::__construct', 'keyFile missing', fn ($f) => new Guard(keyFile: $f->dir . '/none'), KeyException::class);
        $row('Guard::__construct', 'keyFile a directory', fn ($f) => new Guard(keyFile: $f->dir), KeyException::class);
        $row('Guard::__construct', 'keyFile garbage', fn ($f) => new Guard(keyFile: $f->garbage), KeyException::class);
        $row('Guard::__construct', 'keys of ints', fn ($f) => new Guard(keys: [5]), InvalidArgumentException::class);
        $row('Guard::__construct', 'a key of 31 bytes', fn ($f) => new Guard(keys: [[1, substr(self::KEY, 1), true]]), KeyException::class);
        $row('Guard::__construct', 'a key id a string', fn ($f) => new Guard(keys: [['1', self::KEY, true]]), InvalidArgumentException::class);
        $row('Guard::__construct', 'sign a string', fn ($f) => new Guard(keys: [[1, self::KEY, 'yes']]), InvalidArgumentException::class);
        $row('Guard::__construct', 'a key id twice', fn ($f) => new Guard(keys: [[1, self::KEY, true], [1, self::OTHER_KEY, false]]), KeyException::class);

        $row('Guard::addKey', 'id negative', fn ($f) => $f->guard->addKey(-1, self::OTHER_KEY), InvalidArgumentException::class);
        $row('Guard::addKey', 'id 2**32', fn ($f) => $f->guard->addKey(1 << 32, self::OTHER_KEY), InvalidArgumentException::class);
        $row('Guard::addKey', 'id a float', fn ($f) => $f->guard->addKey(2.0, self::OTHER_KEY), \TypeError::class);
        $row('Guard::addKey', 'key an int', fn ($f) => $f->guard->addKey(2, 32), \TypeError::class);
        $row('Guard::addKey', 'key of 33 bytes', fn ($f) => $f->guard->addKey(2, self::OTHER_KEY . 'x'), KeyException::class);
        $row('Guard::addKey', 'key base64url with a bad character', fn ($f) => $f->guard->addKey(2, str_repeat('+', 43)), KeyException::class);
        $row('Guard::addKey', 'an id already added', fn ($f) => $f->guard->addKey(1, self::OTHER_KEY), KeyException::class);
        $row('Guard::addKey', 'sign a string', fn ($f) => $f->guard->addKey(2, self::OTHER_KEY, 'no'), \TypeError::class);
        $row('Guard::addKey', 'a closed guard', fn ($f) => self::closed('guard')->addKey(2, self::OTHER_KEY), InvalidArgumentException::class);

        $row('Guard::loadKeys', 'null', fn ($f) => $f->guard->loadKeys(null), \TypeError::class);
        $row('Guard::loadKeys', 'a path with a NUL', fn ($f) => $f->guard->loadKeys($f->clashing . "\0"), InvalidArgumentException::class);
        $row('Guard::loadKeys', 'a path not UTF-8', fn ($f) => $f->guard->loadKeys($f->dir . "/\xff"), KeyException::class);
        $row('Guard::loadKeys', 'garbage', fn ($f) => $f->guard->loadKeys($f->garbage), KeyException::class);
        $row('Guard::loadKeys', 'a key id the guard has', fn ($f) => $f->guard->loadKeys($f->clashing), KeyException::class);

        $row('Guard::generateKeyFile', 'negative', fn ($f) => Guard::generateKeyFile(-1), InvalidArgumentException::class);
        $row('Guard::generateKeyFile', 'PHP_INT_MAX', fn ($f) => Guard::generateKeyFile(PHP_INT_MAX), InvalidArgumentException::class);
        $row('Guard::generateKeyFile', 'a string', fn ($f) => Guard::generateKeyFile('1'), \TypeError::class);

        $row('Guard::issue', 'binding an int', fn ($f) => $f->guard->issue(5), \TypeError::class);
        $row('Guard::issue', 'binding null', fn ($f) => $f->guard->issue(null), \TypeError::class);
        $row('Guard::issue', 'binding with a NUL', fn ($f) => $f->guard->issue("post\0"), InvalidArgumentException::class);
        $row('Guard::issue', 'locale unknown', fn ($f) => $f->guard->issue(locale: 'xx'), LocaleException::class);
        $row('Guard::issue', 'locale with a NUL', fn ($f) => $f->guard->issue(locale: "en\0"), InvalidArgumentException::class);
        $row('Guard::issue', 'style a string', fn ($f) => $f->guard->issue(style: 'bold'), \TypeError::class);
        $row('Guard::issue', 'a closed guard', fn ($f) => self::closed('guard')->issue(), InvalidArgumentException::class);
        $row('Guard::issue', 'binding of 1 MiB', fn ($f) => $f->guard->issue($mib),
            self::returns('a Challenge', fn ($c) => $c instanceof Challenge));

        $row('Guard::verify', 'token null', fn ($f) => $f->guard->verify(null, '1'), \TypeError::class);
        $row('Guard::verify', 'answer an int', fn ($f) => $f->guard->verify($f->challenge->token, 2, 'post-1'), \TypeError::class);
        $row('Guard::verify', 'binding with a NUL', fn ($f) => $f->guard->verify($f->challenge->token, '2', "post-1\0"), InvalidArgumentException::class);
        $row('Guard::verify', 'a closed guard', fn ($f) => self::closed('guard')->verify('t', '1'), InvalidArgumentException::class);
        $row('Guard::verify', 'token of 1 MiB: malformed', fn ($f) => $f->guard->verify($mib, '1', 'post-1'),
            self::returns('Malformed', fn ($v) => $v === Verdict::Malformed));
        foreach (self::HOSTILE_TEXT as $i => $text) {
            $row('Guard::verify', "token hostile #$i: malformed", fn ($f) => $f->guard->verify($text, '1', 'post-1'),
                self::returns('Malformed', fn ($v) => $v === Verdict::Malformed));
            $row('Guard::verify', "answer hostile #$i: wrong",
                fn ($f) => $f->guard->verify($f->guard->issue('p')->token, $text, 'p'),
                self::returns('Wrong', fn ($v) => $v === Verdict::Wrong));
            $row('Guard::issue', "binding hostile #$i", fn ($f) => $f->guard->issue(str_replace("\0", '', $text)),
                self::returns('a Challenge', fn ($c) => $c instanceof Challenge));
        }

        $row('Guard::judge', 'submission an int', fn ($f) => $f->guard->judge(5), \TypeError::class);
        $row('Guard::judge', 'submission null', fn ($f) => $f->guard->judge(null), \TypeError::class);
        $row('Guard::judge', 'an unknown field', fn ($f) => $f->guard->judge(['bogus' => 'x']), InvalidArgumentException::class);
        $row('Guard::judge', 'a numeric key', fn ($f) => $f->guard->judge(['x']), InvalidArgumentException::class);
        $row('Guard::judge', 'a field an int', fn ($f) => $f->guard->judge(['body' => 5]), InvalidArgumentException::class);
        $row('Guard::judge', 'policy an array', fn ($f) => $f->guard->judge([], []), \TypeError::class);
        $row('Guard::judge', 'client not an address, counted by a limiter',
            fn ($f) => $f->guard->judge(['client' => 'localhost'], new Policy(limiter: $f->limiter)), AddressException::class);
        $row('Guard::judge', 'client null, counted by a limiter',
            fn ($f) => $f->guard->judge(['body' => 'x'], new Policy(limiter: $f->limiter)), AddressException::class);
        $row('Guard::judge', 'a closed guard', fn ($f) => self::closed('guard')->judge([]), InvalidArgumentException::class);
        $row('Guard::judge', 'every field hostile: a decision',
            fn ($f) => $f->guard->judge(array_fill_keys(
                ['body', 'author', 'email', 'url', 'token', 'answer'], "x\0\xff\xc0\xaf"), new Policy(bayes: $f->bayes)),
            self::returns('a reject', fn ($d) => $d->action === Action::Reject));
        $row('Guard::close', 'twice: harmless', fn ($f) => [$f->guard->close(), $f->guard->close()],
            self::returns('nothing', fn ($r) => $r === [null, null]));

        $row('Submission::__construct', 'a field an int', fn ($f) => new Submission(body: 5), \TypeError::class);
        $row('Submission::fromArray', 'a field an array', fn ($f) => Submission::fromArray(['body' => []]), InvalidArgumentException::class);
        $row('Submission::fromArray', 'an unknown field', fn ($f) => Submission::fromArray(['text' => 'x']), InvalidArgumentException::class);
        $row('Policy::__construct', 'failureCost 0', fn ($f) => $f->guard->judge([], new Policy(failureCost: 0)), InvalidArgumentException::class);
        $row('Policy::__construct', 'failureCost negative', fn ($f) => $f->guard->judge([], new Policy(failureCost: -1)), InvalidArgumentException::class);
        $row('Policy::__construct', 'failureCost a string', fn ($f) => new Policy(failureCost: '3'), \TypeError::class);
        $row('Policy::__construct', 'escalationStep PHP_INT_MAX',
            fn ($f) => $f->guard->judge([], new Policy(escalationStep: PHP_INT_MAX)), InvalidArgumentException::class);
        $row('Policy::__construct', 'limiter a string', fn ($f) => new Policy(limiter: 'x'), \TypeError::class);
        $row('Policy::__construct', 'onSpam a string', fn ($f) => new Policy(onSpam: 'reject'), \TypeError::class);
        $row('Policy::__construct', 'a closed limiter',
            fn ($f) => $f->guard->judge([], new Policy(limiter: self::closed('limiter'))), InvalidArgumentException::class);

        // ---- Challenge ----
        $row('Challenge::html', 'answerField empty', fn ($f) => $f->challenge->html(answerField: ''), InvalidArgumentException::class);
        $row('Challenge::html', 'answerField an int', fn ($f) => $f->challenge->html(answerField: 5), \TypeError::class);
        $row('Challenge::html', 'answerField with a NUL', fn ($f) => $f->challenge->html(answerField: "a\0"), InvalidArgumentException::class);
        $row('Challenge::html', 'tokenField not UTF-8', fn ($f) => $f->challenge->html(tokenField: "\xff"), InvalidArgumentException::class);
        $row('Challenge::html', 'honeypotField of 65 bytes', fn ($f) => $f->challenge->html(honeypotField: str_repeat('h', 65)), InvalidArgumentException::class);
        $row('Challenge::html', 'two fields of one name', fn ($f) => $f->challenge->html(answerField: 'x', tokenField: 'x'), InvalidArgumentException::class);
        $row('Challenge::json', 'honeypotField a control character', fn ($f) => $f->challenge->json(honeypotField: "a\x01"), InvalidArgumentException::class);
        $row('Challenge::json', 'answerField an array', fn ($f) => $f->challenge->json(answerField: []), \TypeError::class);

        // ---- Bayes ----
        $row('Bayes::__construct', 'url an int', fn ($f) => new Bayes(5), \TypeError::class);
        $row('Bayes::__construct', 'url malformed', fn ($f) => new Bayes('memory:?tokens=0'), StoreException::class);
        $row('Bayes::__construct', 'url with a NUL', fn ($f) => new Bayes("memory:\0"), InvalidArgumentException::class);
        $row('Bayes::__construct', 'url a garbage file', fn ($f) => new Bayes('sqlite:' . $f->garbage), StoreException::class);
        $row('Bayes::__construct', 'hamCutoff a string', fn ($f) => new Bayes(hamCutoff: '0.1'), \TypeError::class);
        $row('Bayes::__construct', 'hamCutoff NAN', fn ($f) => new Bayes(hamCutoff: NAN), InvalidArgumentException::class);
        $row('Bayes::__construct', 'spamCutoff INF', fn ($f) => new Bayes(spamCutoff: INF), InvalidArgumentException::class);
        $row('Bayes::__construct', 'cutoffs out of order', fn ($f) => new Bayes(hamCutoff: 0.9, spamCutoff: 0.1), InvalidArgumentException::class);
        $row('Bayes::__construct', 'prior 1', fn ($f) => new Bayes(prior: 1.0), InvalidArgumentException::class);
        $row('Bayes::__construct', 'maxClues 0', fn ($f) => new Bayes(maxClues: 0), InvalidArgumentException::class);
        $row('Bayes::__construct', 'maxClues negative', fn ($f) => new Bayes(maxClues: -1), InvalidArgumentException::class);
        $row('Bayes::__construct', 'threads PHP_INT_MAX', fn ($f) => new Bayes(threads: PHP_INT_MAX), InvalidArgumentException::class);
        $row('Bayes::learn', 'an int', fn ($f) => $f->bayes->learn(5), \TypeError::class);
        $row('Bayes::learn', 'null', fn ($f) => $f->bayes->learn(null), \TypeError::class);
        $row('Bayes::learn', 'an unknown field', fn ($f) => $f->bayes->learn(['text' => 'x']), InvalidArgumentException::class);
        $row('Bayes::learn', 'a field an int', fn ($f) => $f->bayes->learn(['body' => 5]), InvalidArgumentException::class);
        $row('Bayes::learn', 'spam a string', fn ($f) => $f->bayes->learn('x', spam: 'no'), \TypeError::class);
        $row('Bayes::learn', 'a closed filter', fn ($f) => self::closed('bayes')->learn('x'), InvalidArgumentException::class);
        $row('Bayes::unlearn', 'never learned', fn ($f) => $f->bayes->unlearn('never ever learned'), NotLearnedException::class);
        $row('Bayes::unlearn', 'learned as the other class', fn ($f) => $f->bayes->unlearn('a lovely article about gardens', spam: true), NotLearnedException::class);
        $row('Bayes::unlearn', 'a float', fn ($f) => $f->bayes->unlearn(1.5), \TypeError::class);
        $row('Bayes::learnBatch', 'a class a string', fn ($f) => $f->bayes->learnBatch(['x'], ['no']), InvalidArgumentException::class);
        $row('Bayes::learnBatch', 'a class an int', fn ($f) => $f->bayes->learnBatch(['x', 'y'], [true, 1]), InvalidArgumentException::class);
        $row('Bayes::learnBatch', 'more classes than comments', fn ($f) => $f->bayes->learnBatch(['x'], [true, false]), InvalidArgumentException::class);
        $row('Bayes::learnBatch', 'a comment an int', fn ($f) => $f->bayes->learnBatch(['x', 5]), \TypeError::class);
        $row('Bayes::learnBatch', 'a comment with an unknown field', fn ($f) => $f->bayes->learnBatch(['x', ['text' => 'y']]), InvalidArgumentException::class);
        $row('Bayes::learnBatch', 'not an array', fn ($f) => $f->bayes->learnBatch('x'), \TypeError::class);
        $row('Bayes::unlearnBatch', 'one never learned: none kept',
            fn ($f) => $f->bayes->unlearnBatch(['cheap pills at http://pills.example.com', 'never ever learned']), NotLearnedException::class);
        $row('Bayes::unlearnBatch', 'a class null', fn ($f) => $f->bayes->unlearnBatch(['x'], [null]), InvalidArgumentException::class);
        $row('Bayes::classify', 'clues negative', fn ($f) => $f->bayes->classify('x', clues: -1), InvalidArgumentException::class);
        $row('Bayes::classify', 'clues a float', fn ($f) => $f->bayes->classify('x', clues: 1.5), \TypeError::class);
        $row('Bayes::classify', 'clues PHP_INT_MAX: no more than maxClues',
            fn ($f) => $f->bayes->classify('cheap pills', clues: PHP_INT_MAX),
            self::returns('at most 150 clues', fn ($r) => count($r->clues) > 0 && count($r->clues) <= 150));
        $row('Bayes::classify', 'a closed filter', fn ($f) => self::closed('bayes')->classify('x'), InvalidArgumentException::class);
        foreach (self::HOSTILE_TEXT as $i => $text) {
            $row('Bayes::classify', "every field hostile #$i",
                fn ($f) => $f->bayes->classify(['body' => $text, 'author' => $text, 'email' => $text, 'url' => $text], clues: 5),
                self::returns('a score', fn ($r) => $r->spamicity >= 0 && $r->spamicity <= 1));
            $row('Bayes::learn', "hostile #$i: learned and unlearned",
                fn ($f) => [$f->bayes->learn($text), $f->bayes->unlearn($text)],
                self::returns('nothing', fn ($r) => $r === [null, null]));
        }
        $row('Bayes::classifyBatch', 'a comment null', fn ($f) => $f->bayes->classifyBatch(['x', null]), \TypeError::class);
        $row('Bayes::classifyBatch', 'a comment with a field an int', fn ($f) => $f->bayes->classifyBatch([['body' => 1]]), InvalidArgumentException::class);
        $row('Bayes::classifyBatch', '200 hostile comments',
            fn ($f) => $f->bayes->classifyBatch(array_map(fn ($i) => self::HOSTILE_TEXT[$i % 8], range(0, 199))),
            self::returns('200 scores', fn ($r) => count($r) === 200 && $r[199] instanceof BayesResult));
        $row('Bayes::stats', 'a closed filter', fn ($f) => self::closed('bayes')->stats(), InvalidArgumentException::class);
        $row('Bayes::optimize', 'a closed filter', fn ($f) => self::closed('bayes')->optimize(), InvalidArgumentException::class);
        $row('Bayes::preload', 'a closed filter', fn ($f) => self::closed('bayes')->preload(), InvalidArgumentException::class);
        $row('Bayes::close', 'twice: harmless', fn ($f) => [$f->bayes->close(), $f->bayes->close()],
            self::returns('nothing', fn ($r) => $r === [null, null]));
        $row('Comment::__construct', 'a field an int', fn ($f) => new Comment(body: 5), \TypeError::class);
        $row('Comment::of', 'a float', fn ($f) => Comment::of(1.5), \TypeError::class);
        $row('Comment::of', 'a field an object', fn ($f) => Comment::of(['url' => new \stdClass()]), InvalidArgumentException::class);

        // ---- Limiter ----
        $row('Limiter::__construct', 'store an int', fn ($f) => new Limiter(5), \TypeError::class);
        $row('Limiter::__construct', 'store malformed', fn ($f) => new Limiter('memory:?capacity=0'), StoreException::class);
        $row('Limiter::__construct', 'rate a string', fn ($f) => new Limiter(rate: '5'), \TypeError::class);
        $row('Limiter::__construct', 'rate 0', fn ($f) => new Limiter(rate: 0.0), InvalidArgumentException::class);
        $row('Limiter::__construct', 'rate NAN', fn ($f) => new Limiter(rate: NAN), InvalidArgumentException::class);
        $row('Limiter::__construct', 'rate -INF', fn ($f) => new Limiter(rate: -INF), InvalidArgumentException::class);
        $row('Limiter::__construct', 'burst negative', fn ($f) => new Limiter(burst: -1), InvalidArgumentException::class);
        $row('Limiter::__construct', 'burst 1000001', fn ($f) => new Limiter(burst: 1000001), InvalidArgumentException::class);
        $row('Limiter::__construct', 'capacity negative', fn ($f) => new Limiter(capacity: -1), InvalidArgumentException::class);
        $row('Limiter::__construct', 'capacity PHP_INT_MAX', fn ($f) => new Limiter(capacity: PHP_INT_MAX), InvalidArgumentException::class);
        $row('Limiter::__construct', 'name of 257 bytes', fn ($f) => new Limiter(name: str_repeat('n', 257)), InvalidArgumentException::class);
        $row('Limiter::__construct', 'name with a NUL', fn ($f) => new Limiter(name: "a\0"), InvalidArgumentException::class);
        $row('Limiter::__construct', 'clockNs not callable', fn ($f) => new Limiter(clockNs: 1), \TypeError::class);
        $row('Limiter::take', 'key null', fn ($f) => $f->limiter->take(null), \TypeError::class);
        $row('Limiter::take', 'key an int', fn ($f) => $f->limiter->take(5), \TypeError::class);
        $row('Limiter::take', 'cost negative', fn ($f) => $f->limiter->take('client-a', -1), InvalidArgumentException::class);
        $row('Limiter::take', 'cost 2**32', fn ($f) => $f->limiter->take('client-a', 1 << 32), InvalidArgumentException::class);
        $row('Limiter::take', 'cost a float', fn ($f) => $f->limiter->take('client-a', 1.0), \TypeError::class);
        $row('Limiter::take', 'cost above the limit: refused, nothing charged',
            fn ($f) => $f->limiter->take('client-a', 4),
            self::returns('never', fn ($r) => !$r->allowed && $r->retryAfterMs === LimitResult::RETRY_NEVER));
        $row('Limiter::take', 'a closed limiter', fn ($f) => self::closed('limiter')->take('x'), InvalidArgumentException::class);
        foreach ([...self::HOSTILE_TEXT, $mib] as $i => $text) {
            $row('Limiter::take', "key hostile #$i", fn ($f) => $f->limiter->take($text),
                self::returns('allowed', fn ($r) => $r->allowed));
        }
        $row('Limiter::clientKey', 'null', fn ($f) => Limiter::clientKey(null), \TypeError::class);
        $row('Limiter::clientKey', 'a host name', fn ($f) => Limiter::clientKey('localhost'), AddressException::class);
        $row('Limiter::clientKey', 'a NUL after the address', fn ($f) => Limiter::clientKey("1.2.3.4\0"), AddressException::class);
        $row('Limiter::clientKey', 'not UTF-8', fn ($f) => Limiter::clientKey("1.2.3.\xff"), AddressException::class);
        $row('Limiter::clientKey', '1 MiB', fn ($f) => Limiter::clientKey($mib), AddressException::class);
        $row('Limiter::clientKey', 'ipv6Prefix 129', fn ($f) => Limiter::clientKey('::1', 129), InvalidArgumentException::class);
        $row('Limiter::clientKey', 'ipv6Prefix negative', fn ($f) => Limiter::clientKey('::1', -1), InvalidArgumentException::class);
        $row('Limiter::close', 'twice: harmless', fn ($f) => [$f->limiter->close(), $f->limiter->close()],
            self::returns('nothing', fn ($r) => $r === [null, null]));

        // ---- Enums and exceptions ----
        $row('Verdict::fromC', 'out of range', fn ($f) => Verdict::fromC(7), InvalidArgumentException::class);
        $row('Verdict::fromC', 'negative', fn ($f) => Verdict::fromC(-1), InvalidArgumentException::class);
        $row('Verdict::from', 'an unknown name', fn ($f) => Verdict::from('passed'), \ValueError::class);
        $row('Verdict::toC', 'no argument: its number', fn ($f) => Verdict::Forged->toC(),
            self::returns('5', fn ($n) => $n === 5));
        $row('Verdict::passed', 'no argument: Wrong is false', fn ($f) => Verdict::Wrong->passed(),
            self::returns('false', fn ($b) => $b === false));
        $row('Action::fromC', 'out of range', fn ($f) => Action::fromC(3), InvalidArgumentException::class);
        $row('Action::fromC', 'a string', fn ($f) => Action::fromC('1'), \TypeError::class);
        $row('Action::from', 'an unknown name', fn ($f) => Action::from('drop'), \ValueError::class);
        $row('Action::toC', 'no argument: its number', fn ($f) => Action::Reject->toC(),
            self::returns('2', fn ($n) => $n === 2));
        $row('BayesVerdict::fromC', 'out of range', fn ($f) => BayesVerdict::fromC(PHP_INT_MAX), InvalidArgumentException::class);
        $row('BayesVerdict::from', 'an unknown name', fn ($f) => BayesVerdict::from('maybe'), \ValueError::class);
        $row('LimitBy::from', 'an unknown name', fn ($f) => LimitBy::from('ip'), \ValueError::class);
        $row('LimitBy::toC', 'no argument: its number', fn ($f) => LimitBy::Binding->toC(),
            self::returns('1', fn ($n) => $n === 1));
        $row('Style::from', 'an unknown name', fn ($f) => Style::from('bold'), \ValueError::class);
        $row('Style::toC', 'no argument: its number', fn ($f) => Style::Mixed->toC(),
            self::returns('2', fn ($n) => $n === 2));
        $row('Exception::fromCode', 'a code that is none', fn ($f) => Exception::fromCode(-99),
            self::returns('an Exception, RG_EUNKNOWN', fn ($e) => get_class($e) === Exception::class && $e->errorName === 'RG_EUNKNOWN'));
        $row('Exception::fromCode', 'PHP_INT_MIN', fn ($f) => Exception::fromCode(PHP_INT_MIN),
            self::returns('an Exception', fn ($e) => $e instanceof Exception));
        $row('Exception::fromCode', 'a string', fn ($f) => Exception::fromCode('-1'), \TypeError::class);
        $row('Exception::__construct', 'a code that is a string', fn ($f) => new Exception('x', '-1'), \TypeError::class);
        return $rows;
    }

    /**
     * @dataProvider rows
     */
    public function testRow(string $target, \Closure $call, string|array $want): void
    {
        $f = self::fixture();
        try {
            if (is_array($want)) {
                [, $what, $check] = $want;
                $got = $call($f);
                $this->assertTrue($check($got), "$target: wanted $what");
                return;
            }
            try {
                $call($f);
            } catch (\FFI\Exception $e) {
                $this->fail("$target: an FFI exception leaked: " . $e->getMessage());
            } catch (\Throwable $e) {
                $this->assertInstanceOf($want, $e, "$target: " . get_class($e) . ': ' . $e->getMessage());
                $this->assertNotSame('', $e->getMessage());
                if ($e instanceof Exception && !$e instanceof \ReplyGuard\LibraryException) {
                    // The library's code and its name come with it.
                    $this->assertLessThan(0, $e->getCode());
                    $this->assertStringStartsWith('RG_E', $e->errorName);
                }
                return;
            }
            $this->fail("$target: threw nothing, not $want");
        } finally {
            foreach (['guard', 'bayes', 'limiter'] as $h) {
                $f->{$h}->close();
            }
        }
    }

    public function testEveryPublicMethodHasRows(): void
    {
        $targets = array_unique(array_map(fn ($r) => $r[0], self::rows()));
        $missing = [];
        foreach (glob(dirname(__DIR__) . '/src/*.php') as $file) {
            $name = basename($file, '.php');
            $class = "ReplyGuard\\$name";
            // autoload.php is no class: asking for it would load it again.
            if (!ctype_upper($name[0]) || (!class_exists($class) && !enum_exists($class))) {
                continue;
            }
            $r = new \ReflectionClass($class);
            if (str_contains((string) $r->getDocComment(), '@internal')
                || in_array($name, self::OUT_ONLY, true) || $r->isSubclassOf(\Throwable::class) && $name !== 'Exception') {
                continue;
            }
            foreach ($r->getMethods(\ReflectionMethod::IS_PUBLIC) as $m) {
                if ($m->getDeclaringClass()->getName() !== $class || $m->getName() === '__destruct'
                    || in_array($m->getName(), ['cases', 'tryFrom'], true)
                    || str_contains((string) $m->getDocComment(), '@internal')) {
                    continue;
                }
                // An enum's from() is PHP's, and fromC() is the binding's: both are rows.
                $target = "$name::" . $m->getName();
                if (!in_array($target, $targets, true)) {
                    $missing[] = $target;
                }
            }
        }
        $this->assertSame([], $missing, 'public methods without a hostile row');
        $this->assertGreaterThan(200, count(self::rows()));
    }

    /**
     * Calls the binding refuses (or a take that never fits), each of which
     * must leave the model, the limits, the spent tokens and the keys as
     * they were.
     *
     * @return array<string, array{string, \Closure}>
     */
    public static function refused(): array
    {
        $calls = [
            'learn, an unknown field' => fn ($f) => $f->bayes->learn(['body' => 'x', 'text' => 'y']),
            'learn, a field an int' => fn ($f) => $f->bayes->learn(['body' => 'x', 'url' => 5]),
            'unlearn, never learned' => fn ($f) => $f->bayes->unlearn('never ever learned'),
            'unlearn, the other class' => fn ($f) => $f->bayes->unlearn('cheap pills at http://pills.example.com', spam: false),
            'learnBatch, a class not a bool' => fn ($f) => $f->bayes->learnBatch(['new words here', 'more words'], [true, 'no']),
            'learnBatch, a comment bad' => fn ($f) => $f->bayes->learnBatch(['new words here', ['body' => 5]]),
            'unlearnBatch, one never learned' => fn ($f) => $f->bayes->unlearnBatch(['cheap pills at http://pills.example.com', 'never ever learned']),
            'take, cost negative' => fn ($f) => $f->limiter->take('client-a', -1),
            'take, cost above the limit' => fn ($f) => $f->limiter->take('client-a', 4)->allowed,
            'verify, another binding' => fn ($f) => $f->guard->verify($f->challenge->token, '1', 'post-2') !== Verdict::Forged,
            'verify, a binding with a NUL' => fn ($f) => $f->guard->verify($f->challenge->token, '1', "post-1\0"),
            'judge, a client that is none' => fn ($f) => $f->guard->judge(
                ['client' => 'localhost', 'body' => 'x', 'token' => $f->challenge->token, 'answer' => '2', 'binding' => 'post-1'],
                new Policy(limiter: $f->limiter, bayes: $f->bayes),
            ),
            'judge, failureCost 0' => fn ($f) => $f->guard->judge(
                ['client' => '203.0.113.5', 'body' => 'x', 'token' => $f->challenge->token, 'answer' => '2', 'binding' => 'post-1'],
                new Policy(limiter: $f->limiter, failureCost: 0),
            ),
            'loadKeys, a clashing file' => fn ($f) => $f->guard->loadKeys($f->clashing),
            'addKey, an id already added' => fn ($f) => $f->guard->addKey(1, self::OTHER_KEY),
        ];
        $rows = [];
        foreach (['memory', 'sqlite'] as $store) {
            foreach ($calls as $what => $call) {
                $rows["$store: $what"] = [$store, $call];
            }
        }
        return $rows;
    }

    /**
     * @dataProvider refused
     */
    public function testRefusedCallsChangeNothing(string $store, \Closure $call): void
    {
        $f = self::fixture($store);
        try {
            $before = self::snapshot($f);
            try {
                // A call that returns says whether it failed to refuse.
                $this->assertFalse($call($f));
            } catch (\TypeError | \ValueError | Exception) {
                // Refused, as it must be.
            }
            $this->assertSame($before, self::snapshot($f));
            // The challenge's token is unspent, and key 1 still signs.
            $answer = (string) Support::solve($f->challenge);
            $this->assertSame(Verdict::Pass, $f->guard->verify($f->challenge->token, $answer, 'post-1'));
            $other = new Guard(keys: [[2, self::OTHER_KEY, true]], minSolve: 0, clock: static fn (): int => $f->now);
            $foreign = $other->issue('post-1')->token;
            $other->close();
            $this->assertSame(Verdict::Forged, $f->guard->verify($foreign, '0', 'post-1'));
        } finally {
            foreach (['guard', 'bayes', 'limiter'] as $h) {
                $f->{$h}->close();
            }
        }
    }

    /** What the model and the limiter say, as plain values. */
    private static function snapshot(\stdClass $f): array
    {
        $out = [(array) $f->bayes->stats()];
        foreach (['cheap pills at http://pills.example.com', 'a lovely article about gardens', 'new words here'] as $text) {
            $r = $f->bayes->classify($text, clues: 50);
            $out[] = [$r->spamicity, array_map(fn ($c) => (array) $c, $r->clues)];
        }
        foreach (['client-a', 'client-b', ''] as $key) {
            $out[] = (array) $f->limiter->take($key, 0);
        }
        return $out;
    }
}
