<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\Action;
use ReplyGuard\AddressException;
use ReplyGuard\Bayes;
use ReplyGuard\BayesVerdict;
use ReplyGuard\Decision;
use ReplyGuard\Exception;
use ReplyGuard\Guard;
use ReplyGuard\InvalidArgumentException;
use ReplyGuard\Library;
use ReplyGuard\Limiter;
use ReplyGuard\Policy;
use ReplyGuard\Style;
use ReplyGuard\Submission;
use ReplyGuard\Verdict;

/**
 * Guard::judge(): each layer's finding, the policy's actions, and errors.
 */
final class JudgeTest extends TestCase
{
    private ManualClock $clock;
    private Guard $guard;

    protected function setUp(): void
    {
        $this->clock = new ManualClock();
        $this->guard = new Guard(keys: [[1, random_bytes(32)]], clock: $this->clock);
    }

    /**
     * A submission with a fresh challenge answered right, after $wait s.
     *
     * @param array<string, string> $fields
     *
     * @return array<string, string>
     */
    private function post(array $fields = [], int $wait = 10): array
    {
        $c = $this->guard->issue('post-42', style: Style::Digits);
        $this->clock->advance($wait);
        return $fields + [
            'author' => 'Anna',
            'email' => 'anna@example.org',
            'url' => '',
            'body' => 'Thanks for the article, the part about compost was helpful.',
            'token' => $c->token,
            'answer' => (string) Support::solve($c),
            'honeypot' => '',
            'client' => '203.0.113.7',
            'binding' => 'post-42',
        ];
    }

    private function filter(): Bayes
    {
        $filter = new Bayes();
        $filter->learn('cheap pills casino viagra http://pills.example.com', true);
        $filter->learn('buy cheap pills now, casino bonus', true);
        $filter->learn('Thanks for the article, compost was helpful', false);
        $filter->learn('lovely photos, which lens was that', false);
        return $filter;
    }

    public function testAccept(): void
    {
        $d = $this->guard->judge($this->post());
        $this->assertInstanceOf(Decision::class, $d);
        $this->assertSame(Action::Accept, $d->action);
        $this->assertTrue($d->accepted());
        $this->assertSame([], $d->reasons);
        $this->assertSame(0, $d->reasonBits);
        $this->assertTrue($d->verified);
        $this->assertSame(Verdict::Pass, $d->verdict);
        $this->assertNull($d->spamicity);
        $this->assertSame(0, $d->retryAfterMs);
        $this->assertSame(5, $d->minSolve);
    }

    public function testSubmissionObject(): void
    {
        $fields = $this->post();
        $d = $this->guard->judge(new Submission(...$fields), new Policy(bayes: $this->filter()));
        $this->assertSame(Action::Accept, $d->action);
        $this->assertNotNull($d->spamicity);
        $this->assertLessThan(0.2, $d->spamicity);
    }

    public function testHoneypot(): void
    {
        $d = $this->guard->judge($this->post(['honeypot' => 'http://spam.example.com']));
        $this->assertSame(Action::Reject, $d->action);
        $this->assertSame(['honeypot'], $d->reasons);
        $this->assertFalse($d->verified);
        $this->assertNull($d->verdict, 'a bot that fills the honeypot gets no guess');
    }

    public function testCaptchaFindings(): void
    {
        $cases = [
            'captcha_wrong' => [['answer' => '1000'], 10],
            'captcha_too_fast' => [[], 1],
            'captcha_forged' => [['binding' => 'post-43'], 10],
            'captcha_malformed' => [['token' => ''], 10],
            'captcha_expired' => [[], 5000],
        ];
        foreach ($cases as $reason => [$fields, $wait]) {
            $d = $this->guard->judge($this->post($fields, $wait));
            $this->assertSame(Action::Reject, $d->action, $reason);
            $this->assertSame([$reason], $d->reasons);
        }
        $fields = $this->post();
        $this->guard->judge($fields);
        $d = $this->guard->judge($fields);
        $this->assertSame(['captcha_replayed'], $d->reasons);
        $this->assertSame(Verdict::Replayed, $d->verdict);
    }

    public function testRateLimited(): void
    {
        $limiter = new Limiter('memory:', 1 / 60, 1);
        $policy = new Policy(limiter: $limiter);
        $this->assertSame(Action::Accept, $this->guard->judge($this->post(), $policy)->action);
        $this->assertSame(Action::Accept, $this->guard->judge($this->post(), $policy)->action);
        $d = $this->guard->judge($this->post(), $policy);
        $this->assertSame(Action::Reject, $d->action);
        $this->assertSame(['rate_limited'], $d->reasons);
        $this->assertGreaterThan(0, $d->retryAfterMs);
        $this->assertNull($d->verdict, 'a limited client gets no guess');
        $other = $this->post(['client' => '198.51.100.1']);
        $this->assertSame(Action::Accept, $this->guard->judge($other, $policy)->action);
    }

    public function testSpamAndPolicyActions(): void
    {
        $filter = $this->filter();
        $spam = ['body' => 'cheap pills casino viagra, buy now http://pills.example.com'];
        $d = $this->guard->judge($this->post($spam), new Policy(bayes: $filter));
        $this->assertSame(Action::Reject, $d->action);
        $this->assertSame(['spam'], $d->reasons);
        $this->assertGreaterThan(0.9, $d->spamicity);

        $lenient = new Policy(bayes: $filter, onSpam: Action::Moderate, onCaptchaWrong: Action::Moderate);
        $this->assertSame(Action::Moderate, $this->guard->judge($this->post($spam), $lenient)->action);
        $d = $this->guard->judge($this->post(['answer' => 'no']), $lenient);
        $this->assertSame(Action::Moderate, $d->action);
        $this->assertSame(['captcha_wrong'], $d->reasons);
    }

    public function testEscalation(): void
    {
        $policy = new Policy(failures: new Limiter('memory:', 1 / 600, 10), escalationStep: 20);
        $this->guard->judge($this->post(['answer' => 'wrong']), $policy);
        $d = $this->guard->judge($this->post([], 10), $policy);
        $this->assertSame(25, $d->minSolve);
        $this->assertSame(['captcha_too_fast'], $d->reasons);
    }

    public function testBadAddress(): void
    {
        $policy = new Policy(limiter: new Limiter());
        try {
            $this->guard->judge($this->post(['client' => 'localhost']), $policy);
            $this->fail('no exception');
        } catch (AddressException $e) {
            $this->assertSame(Exception::EADDRESS, $e->getCode());
        }
        // Without a limiter the address is not read.
        $d = $this->guard->judge($this->post(['client' => 'localhost']));
        $this->assertSame(Action::Accept, $d->action);
    }

    public function testEnumValuesAreTheLibrarysNames(): void
    {
        $ffi = Library::ffi();
        foreach (Action::cases() as $action) {
            $this->assertSame($action->value, $ffi->rg_action_name($action->toC()));
            $this->assertSame($action, Action::fromC($action->toC()));
        }
        foreach (BayesVerdict::cases() as $i => $verdict) {
            $this->assertSame($verdict->value, $ffi->rg_bayes_verdict_name($i));
        }
        foreach (Verdict::cases() as $verdict) {
            $this->assertSame($verdict, Verdict::fromC($verdict->toC()));
        }
        $this->expectException(InvalidArgumentException::class);
        Verdict::fromC(7);
    }

    public function testBadSubmissionAndPolicy(): void
    {
        try {
            $this->guard->judge(['comment' => 'a typo of body']);
            $this->fail('no exception');
        } catch (InvalidArgumentException $e) {
            $this->assertStringContainsString("no field 'comment'", $e->getMessage());
        }
        try {
            $this->guard->judge($this->post(), new Policy(failureCost: 0));
            $this->fail('no exception');
        } catch (InvalidArgumentException $e) {
            $this->assertSame(Exception::EINVAL, $e->getCode());
        }
        $closed = new Limiter();
        $closed->close();
        $this->expectException(InvalidArgumentException::class);
        $this->guard->judge($this->post(), new Policy(limiter: $closed));
    }
}
