<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\AddressException;
use ReplyGuard\Exception;
use ReplyGuard\InvalidArgumentException;
use ReplyGuard\Limiter;
use ReplyGuard\LimitResult;
use ReplyGuard\StoreException;

/**
 * Limiter: GCRA takes on a clock the test moves, client keys, stores and
 * errors.
 */
final class LimiterTest extends TestCase
{
    private int $ns = 1_000_000_000_000;

    private function limiter(float $rate = 1.0, int $burst = 2, string $store = 'memory:'): Limiter
    {
        return new Limiter($store, $rate, $burst, clockNs: fn (): int => $this->ns);
    }

    public function testBurstThenRate(): void
    {
        $l = $this->limiter(rate: 1.0, burst: 2);
        for ($i = 0; $i < 3; $i++) {
            $r = $l->take('client-a');
            $this->assertTrue($r->allowed, "take $i");
            $this->assertSame(3, $r->limit);
            $this->assertSame(2 - $i, $r->remaining);
        }
        $r = $l->take('client-a');
        $this->assertFalse($r->allowed);
        $this->assertSame(1000, $r->retryAfterMs);
        $this->assertTrue($l->take('client-b')->allowed, 'keys are separate');

        $this->ns += 1_000_000_000;
        $this->assertTrue($l->take('client-a')->allowed);
        $this->assertFalse($l->take('client-a')->allowed);
    }

    public function testCostZeroLooksAndCostAboveLimitNeverFits(): void
    {
        $l = $this->limiter(burst: 1);
        $this->assertSame(2, $l->take('k', 0)->remaining);
        $this->assertSame(2, $l->take('k', 0)->remaining);
        $never = $l->take('k', 3);
        $this->assertFalse($never->allowed);
        $this->assertSame(LimitResult::RETRY_NEVER, $never->retryAfterMs);
        $this->assertTrue($l->take('', 1)->allowed, 'the empty key is a key');
        $this->assertTrue($l->take("bin\0ary", 1)->allowed, 'keys are bytes');
    }

    public function testClientKey(): void
    {
        $this->assertSame("\x04\x20" . "\xcb\x00\x71\x07", Limiter::clientKey('203.0.113.7'));
        $this->assertSame(Limiter::clientKey('203.0.113.7'), Limiter::clientKey('::ffff:203.0.113.7'));
        $this->assertSame(
            Limiter::clientKey('2001:db8:1:2::1'),
            Limiter::clientKey('2001:db8:1:2:ffff::9'),
            'one /64, one key',
        );
        $this->assertNotSame(
            Limiter::clientKey('2001:db8:1:2::1', 128),
            Limiter::clientKey('2001:db8:1:2::2', 128),
        );
        $this->assertSame(10, strlen(Limiter::clientKey('2001:db8::1')));
    }

    public function testBadAddress(): void
    {
        foreach (['example.com', '203.0.113.7:80', 'fe80::1%eth0', '', "203.0.113.7\0"] as $bad) {
            try {
                Limiter::clientKey($bad);
                $this->fail("no exception for '$bad'");
            } catch (AddressException $e) {
                $this->assertSame(Exception::EADDRESS, $e->getCode());
                $this->assertStringContainsString('not an IPv4 or IPv6 address', $e->getMessage());
            }
        }
    }

    public function testSqliteIsShared(): void
    {
        $url = 'sqlite:' . Support::scratch() . '/limits.sqlite';
        $a = new Limiter($url, 1 / 60, 0);
        $b = new Limiter($url, 1 / 60, 0);
        $this->assertTrue($a->take('k')->allowed);
        $this->assertFalse($b->take('k')->allowed);
        $this->assertTrue((new Limiter($url, 1 / 60, 0, name: 'other'))->take('k')->allowed);
    }

    public function testErrors(): void
    {
        foreach ([[0.0, 4], [1.0, 2_000_000], [1.0, -1]] as [$rate, $burst]) {
            try {
                new Limiter('memory:', $rate, $burst);
                $this->fail("no exception for $rate, $burst");
            } catch (InvalidArgumentException $e) {
                $this->assertSame(Exception::EINVAL, $e->getCode());
            }
        }
        try {
            new Limiter('memcached://x');
            $this->fail('no exception');
        } catch (StoreException $e) {
            $this->assertSame(Exception::EURL, $e->getCode());
        }
        $l = new Limiter();
        $l->close();
        $this->expectException(InvalidArgumentException::class);
        $l->take('k');
    }
}
