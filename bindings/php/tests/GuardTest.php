<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\Exception;
use ReplyGuard\Guard;
use ReplyGuard\InvalidArgumentException;
use ReplyGuard\KeyException;
use ReplyGuard\Library;
use ReplyGuard\LocaleException;
use ReplyGuard\StoreException;
use ReplyGuard\Style;
use ReplyGuard\Verdict;

/**
 * Guard: issuing, every verdict, keys, and the errors of each family.
 * Time is a ManualClock, so nothing sleeps.
 */
final class GuardTest extends TestCase
{
    private const KEY = "0123456789abcdef0123456789abcdef";

    private ManualClock $clock;

    protected function setUp(): void
    {
        $this->clock = new ManualClock();
    }

    private function guard(mixed ...$options): Guard
    {
        return new Guard(...array_merge(['keys' => [[1, self::KEY, true]], 'clock' => $this->clock], $options));
    }

    public function testRoundTrip(): void
    {
        $guard = $this->guard();
        $challenge = $guard->issue('post-42', style: Style::Digits);
        $this->clock->advance(6);
        $answer = (string) Support::solve($challenge);
        $this->assertSame(Verdict::Pass, $guard->verify($challenge->token, $answer, 'post-42'));
        $this->assertTrue(Verdict::Pass->passed());
    }

    public function testChallengeFields(): void
    {
        $guard = $this->guard(ttl: 600);
        $c = $guard->issue('post-42');
        $this->assertNotSame('', $c->question);
        $this->assertNotSame('', $c->spoken);
        $this->assertDoesNotMatchRegularExpression('/\d/', $c->spoken);
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]{94}$/', $c->token);
        $this->assertSame('en', $c->locale);
        $this->assertSame($this->clock->now, $c->issuedAt);
        $this->assertSame($this->clock->now + 600, $c->expiresAt);
    }

    public function testHtmlAndJson(): void
    {
        $c = $this->guard()->issue('post-42');
        $html = $c->html();
        $this->assertStringContainsString('name="rg_answer"', $html);
        $this->assertStringContainsString('name="rg_token" value="' . $c->token . '"', $html);
        $this->assertStringContainsString('name="rg_note"', $html);
        $this->assertStringContainsString(htmlspecialchars($c->question), $html);
        $this->assertStringContainsString('lang="en"', $html);
        $this->assertStringNotContainsString('<script', $html);

        $json = json_decode($c->json(), true, flags: JSON_THROW_ON_ERROR);
        $this->assertSame($c->question, $json['question']);
        $this->assertSame($c->spoken, $json['spoken']);
        $this->assertSame($c->token, $json['token']);
        $this->assertSame($c->expiresAt, $json['expires_at']);
        $this->assertSame(
            ['answer' => 'rg_answer', 'token' => 'rg_token', 'honeypot' => 'rg_note'],
            $json['fields'],
        );
    }

    public function testRenamedFields(): void
    {
        $c = $this->guard()->issue();
        $html = $c->html(answerField: 'sum', honeypotField: 'website2');
        $this->assertStringContainsString('name="sum"', $html);
        $this->assertStringContainsString('name="website2"', $html);
        $this->assertStringContainsString('name="rg_token"', $html);
        $fields = json_decode($c->json(tokenField: 't'), true)['fields'];
        $this->assertSame('t', $fields['token']);

        $this->expectException(InvalidArgumentException::class);
        $c->html(answerField: 'same', tokenField: 'same');
    }

    /**
     * @return iterable<string, array{Verdict}>
     */
    public static function verdicts(): iterable
    {
        foreach (Verdict::cases() as $v) {
            yield $v->value => [$v];
        }
    }

    /**
     * @dataProvider verdicts
     */
    public function testEveryVerdict(Verdict $expected): void
    {
        $guard = $this->guard(ttl: 600, minSolve: 5);
        $c = $guard->issue('post-42', style: Style::Digits);
        $right = (string) Support::solve($c);
        $token = $c->token;
        $binding = 'post-42';
        $answer = $right;
        switch ($expected) {
            case Verdict::Pass:
                $this->clock->advance(5);
                break;
            case Verdict::Wrong:
                $this->clock->advance(5);
                $answer = (string) ((int) $right + 1);
                break;
            case Verdict::Expired:
                $this->clock->advance(601);
                break;
            case Verdict::TooFast:
                $this->clock->advance(4);
                break;
            case Verdict::Replayed:
                $this->clock->advance(5);
                $this->assertSame(Verdict::Pass, $guard->verify($token, $answer, $binding));
                break;
            case Verdict::Forged:
                $this->clock->advance(5);
                $binding = 'post-43';
                break;
            case Verdict::Malformed:
                $this->clock->advance(5);
                $token = 'not a token';
                break;
        }
        $this->assertSame($expected, $guard->verify($token, $answer, $binding));
        $this->assertSame($expected->value, Library::ffi()->rg_verdict_name($expected->toC()));
    }

    public function testOneGuessPerToken(): void
    {
        $guard = $this->guard();
        $c = $guard->issue('', style: Style::Digits);
        $this->clock->advance(10);
        $this->assertSame(Verdict::Wrong, $guard->verify($c->token, 'nope'));
        $this->assertSame(Verdict::Replayed, $guard->verify($c->token, (string) Support::solve($c)));
    }

    public function testDigitsStyleCoversEveryOperator(): void
    {
        $guard = $this->guard(minSolve: 0);
        $seen = [];
        for ($i = 0; $i < 200 && count($seen) < 3; $i++) {
            $c = $guard->issue('', style: Style::Digits);
            preg_match('/[+−×]|plus|minus|times/u', $c->question, $m);
            $seen[$m[0] ?? '?'] = true;
            $this->assertSame(Verdict::Pass, $guard->verify($c->token, (string) Support::solve($c)), $c->question);
        }
        $this->assertGreaterThanOrEqual(3, count($seen));
    }

    public function testAnswersInWords(): void
    {
        $guard = $this->guard(operators: 1, minSolve: 0);
        $c = $guard->issue('', style: Style::Digits);
        $words = [
            0 => 'zero', 1 => 'one', 2 => 'two', 3 => 'three', 4 => 'four', 5 => 'five', 6 => 'six',
            7 => 'seven', 8 => 'eight', 9 => 'nine', 10 => 'ten', 11 => 'eleven', 12 => 'twelve',
            13 => 'thirteen', 14 => 'fourteen', 15 => 'fifteen', 16 => 'sixteen',
            17 => 'seventeen', 18 => 'eighteen', 19 => 'nineteen', 20 => 'twenty',
            21 => 'twenty-one', 22 => 'twenty-two', 23 => 'twenty-three', 24 => 'twenty-four',
            25 => 'twenty-five', 26 => 'twenty-six', 27 => 'twenty-seven', 28 => 'twenty-eight',
            29 => 'twenty-nine', 30 => 'thirty', 31 => 'thirty-one', 32 => 'thirty-two',
            33 => 'thirty-three', 34 => 'thirty-four', 35 => 'thirty-five', 36 => 'thirty-six',
            37 => 'thirty-seven', 38 => 'thirty-eight', 39 => 'thirty-nine', 40 => 'forty',
        ];
        $answer = '  ' . strtoupper($words[Support::solve($c)]) . ' ';
        $this->assertSame(Verdict::Pass, $guard->verify($c->token, $answer));
    }

    public function testLocales(): void
    {
        $guard = $this->guard(locale: 'de');
        $this->assertSame('de', $guard->issue()->locale);
        $c = $guard->issue('', locale: 'fr');
        $this->assertSame('fr', $c->locale);
        $this->assertStringContainsString('lang="fr"', $c->html());
    }

    public function testKeyFileSharedByTwoGuards(): void
    {
        $dir = Support::scratch();
        $text = Guard::generateKeyFile(7);
        $this->assertMatchesRegularExpression('/^7 sign [A-Za-z0-9_-]{43}$/m', $text);
        file_put_contents("$dir/site.key", $text);

        $a = new Guard(keyFile: "$dir/site.key", minSolve: 0);
        $b = new Guard(keyFile: "$dir/site.key", minSolve: 0);
        $c = $a->issue('p', style: Style::Digits);
        $this->assertSame(Verdict::Pass, $b->verify($c->token, (string) Support::solve($c), 'p'));
    }

    public function testKeyRotation(): void
    {
        $old = [1, self::KEY, true];
        $new = [2, str_repeat('k', 32), true];
        $before = new Guard(keys: [$old], minSolve: 0);
        $after = new Guard(keys: [['id' => 1, 'key' => self::KEY, 'sign' => false], $new], minSolve: 0);

        $onScreen = $before->issue('', style: Style::Digits);
        $this->assertSame(Verdict::Pass, $after->verify($onScreen->token, (string) Support::solve($onScreen)));
        $fresh = $after->issue('', style: Style::Digits);
        $this->assertSame(Verdict::Forged, $before->verify($fresh->token, (string) Support::solve($fresh)));
    }

    public function testBase64urlKeyAndAddKey(): void
    {
        $b64 = rtrim(strtr(base64_encode(self::KEY), '+/', '-_'), '=');
        $a = new Guard(keys: [[1, $b64]], minSolve: 0);
        $b = new Guard(minSolve: 0);
        $b->addKey(1, self::KEY, sign: true);
        $c = $a->issue('', style: Style::Digits);
        $this->assertSame(Verdict::Pass, $b->verify($c->token, (string) Support::solve($c)));
    }

    public function testSqliteStoreRemembersAcrossGuards(): void
    {
        $url = 'sqlite:' . Support::scratch() . '/replay.sqlite';
        $a = $this->guard(store: $url);
        $b = $this->guard(store: $url);
        $c = $a->issue('', style: Style::Digits);
        $this->clock->advance(6);
        $answer = (string) Support::solve($c);
        $this->assertSame(Verdict::Pass, $a->verify($c->token, $answer));
        $this->assertSame(Verdict::Replayed, $b->verify($c->token, $answer));
    }

    public function testNulBytesInVisitorInputAreNotTruncation(): void
    {
        $guard = $this->guard();
        $c = $guard->issue('', style: Style::Digits);
        $this->clock->advance(6);
        // Cut at the NUL, the token would be whole; with it kept, it is not.
        $this->assertSame(Verdict::Malformed, $guard->verify($c->token . "\0junk", '1'));
    }

    public function testBadLocale(): void
    {
        try {
            $this->guard(locale: 'xx');
            $this->fail('no exception');
        } catch (LocaleException $e) {
            $this->assertSame(Exception::ELOCALE, $e->getCode());
            $this->assertSame('RG_ELOCALE', $e->errorName);
            $this->assertStringContainsString('unknown locale', $e->getMessage());
            $this->assertInstanceOf(InvalidArgumentException::class, $e);
        }
        $this->expectException(LocaleException::class);
        $this->guard()->issue('', locale: 'klingon');
    }

    public function testBadStoreUrl(): void
    {
        try {
            $this->guard(store: 'ftp://example.com/');
            $this->fail('no exception');
        } catch (StoreException $e) {
            $this->assertSame(Exception::EURL, $e->getCode());
            $this->assertStringContainsString('malformed or unsupported store URL', $e->getMessage());
        }
    }

    public function testMissingKeyFile(): void
    {
        try {
            new Guard(keyFile: Support::scratch() . '/no-such.key');
            $this->fail('no exception');
        } catch (KeyException $e) {
            $this->assertSame(Exception::EKEYFILE, $e->getCode());
            $this->assertSame('RG_EKEYFILE', $e->errorName);
            $this->assertStringContainsString('key file', $e->getMessage());
        }
    }

    public function testNoSigningKey(): void
    {
        $this->expectException(KeyException::class);
        $this->expectExceptionCode(Exception::ENOKEY);
        (new Guard())->issue();
    }

    public function testBadKeys(): void
    {
        foreach (
            [
                [[1, 'short']],
                [[1, self::KEY], [1, str_repeat('x', 32)]],
            ] as $keys
        ) {
            try {
                new Guard(keys: $keys);
                $this->fail('no exception');
            } catch (KeyException $e) {
                $this->assertSame(Exception::EKEY, $e->getCode());
            }
        }
        $this->expectException(InvalidArgumentException::class);
        new Guard(keys: ['not an entry']);
    }

    public function testSettingsOutOfRange(): void
    {
        foreach (
            [
                ['ttl' => -1],
                ['operandMin' => 30, 'operandMax' => 10],
                ['operators' => 0],
                ['locale' => "e\0n"],
            ] as $options
        ) {
            try {
                $this->guard(...$options);
                $this->fail('no exception for ' . json_encode(array_keys($options)));
            } catch (InvalidArgumentException $e) {
                $this->assertContains($e->getCode(), [Exception::EINVAL, Exception::ERANGE]);
            }
        }
    }

    public function testClose(): void
    {
        $guard = $this->guard();
        $guard->close();
        $guard->close();
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('closed');
        $guard->issue();
    }

    public function testClockThatThrows(): void
    {
        $guard = new Guard(keys: [[1, self::KEY]], clock: static function (): int {
            throw new \DomainException('no time');
        });
        $this->expectException(\DomainException::class);
        $guard->issue();
    }

    public function testExceptionCarriesStrerror(): void
    {
        $e = Exception::fromCode(Exception::ENOTLEARNED, 'context');
        $this->assertSame(
            Library::ffi()->rg_strerror(Exception::ENOTLEARNED) . ': context',
            $e->getMessage(),
        );
        $this->assertSame('RG_ENOTLEARNED', $e->errorName);
    }
}
