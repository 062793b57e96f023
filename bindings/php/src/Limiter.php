<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * A rate limiter (rg_limiter): GCRA, with redis-cell's semantics. A key
 * that has rested may take burst + 1 at once, then $rate a second; a take
 * either fits and is charged, or is refused and charges nothing.
 *
 *     $limiter = new Limiter('memory:', rate: 1 / 60, burst: 4);
 *     if (!$limiter->take(Limiter::clientKey($_SERVER['REMOTE_ADDR']))->allowed) {
 *         http_response_code(429);
 *     }
 *
 * 'memory:' counts within one process; with php-fpm, whose workers are
 * processes, use 'sqlite:PATH' (one machine) or 'redis://…' (several). No
 * store keeps a key itself, only a keyed hash of it. Pass a Limiter to a
 * Policy to have Guard::judge() use it.
 */
final class Limiter
{
    /** rg_limiter *, or null once closed. */
    private ?CData $handle;

    private ?Clock $clock = null;
    private ?CData $config = null;

    /**
     * Opens a limiter (rg_limiter_open()).
     *
     * @param string    $store    'memory:', 'sqlite:PATH' or 'redis://…'
     * @param float     $rate     sustained takes a second (1 / 60: one a
     *                            minute); 1e-6 to 1e9
     * @param int       $burst    takes beyond the rate, at once; at most
     *                            1000000
     * @param int       $capacity memory: keys held, 0 for the default
     *                            100000
     * @param string    $name     namespace: limiters with different names
     *                            share a store without sharing keys
     * @param ?callable $clockNs  returns nanoseconds, instead of the system
     *                            clock: for tests
     *
     * @throws InvalidArgumentException for settings out of range.
     * @throws StoreException           for a bad or failing store.
     */
    public function __construct(
        string $store = 'memory:',
        float $rate = 1 / 60,
        int $burst = 4,
        int $capacity = 0,
        string $name = '',
        ?callable $clockNs = null,
    ) {
        $this->handle = null;
        $ffi = Library::ffi();
        $cfg = $ffi->new('rg_limiter_config');
        $ffi->rg_limiter_config_init(FFI::addr($cfg));
        $cfg->rate_per_s = $rate;
        $cfg->burst = Library::unsigned($burst, 'burst');
        if ($capacity !== 0) {
            $cfg->capacity = Library::unsigned($capacity, 'capacity', 64);
        }
        $storeBuf = Library::cString($store);
        $nameBuf = Library::cString($name);
        $cfg->store = Library::pointer($storeBuf);
        $cfg->name = Library::pointer($nameBuf);
        if ($clockNs !== null) {
            $this->clock = new Clock(\Closure::fromCallable($clockNs), 1000000000);
            $cfg->clock_ns = $this->clock->callback();
            $this->config = $cfg;
        }
        $out = $ffi->new('rg_limiter *');
        $rc = $ffi->rg_limiter_open(FFI::addr($out), FFI::addr($cfg));
        Library::check($rc, "new Limiter(store: '$store', rate: $rate, burst: $burst)");
        $this->handle = $out;
    }

    /**
     * Takes $cost from the key's allowance (rg_limiter_take()); cost 0
     * looks without taking. The key is any bytes: for a client's address,
     * pass clientKey($address), so that an IPv6 client counts by its /64.
     *
     * @throws StoreException when the store fails.
     */
    public function take(string $key, int $cost = 1): LimitResult
    {
        $ffi = Library::ffi();
        $out = $ffi->new('rg_limit_result');
        $rc = $ffi->rg_limiter_take(
            $this->handle(),
            $key === '' ? null : $key,
            strlen($key),
            Library::unsigned($cost, 'cost'),
            FFI::addr($out),
        );
        $this->rethrowClock();
        Library::check($rc, 'take');
        return new LimitResult($out);
    }

    /**
     * The rate-limit key of a client's address (rg_client_key()): an IPv4
     * address whole, an IPv6 address cut to its first $ipv6Prefix bits (0
     * means 64: one customer's network), an IPv4-mapped IPv6 address as
     * the IPv4 address. Binary, up to 18 bytes.
     *
     * @throws AddressException for anything but an address: a host name, a
     *                          port, a zone index.
     */
    public static function clientKey(string $address, int $ipv6Prefix = 0): string
    {
        $ffi = Library::ffi();
        $size = $ffi->RG_FFI_CLIENT_KEY_MAX;
        $out = $ffi->new("uint8_t[$size]");
        $len = $ffi->new('size_t');
        $rc = $ffi->rg_client_key(
            Library::text($address, true),
            Library::unsigned($ipv6Prefix, 'ipv6Prefix'),
            $out,
            FFI::addr($len),
        );
        Library::check($rc, "client address '" . addcslashes($address, "\0..\37'\\") . "'");
        return FFI::string($out, $len->cdata);
    }

    /**
     * Frees the C limiter (rg_limiter_free()). Further calls throw; closing
     * again does nothing. A Policy that holds this limiter then throws too.
     */
    public function close(): void
    {
        if ($this->handle !== null) {
            Library::ffi()->rg_limiter_free($this->handle);
            $this->handle = null;
        }
        $this->config = null;
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * The rg_limiter pointer.
     *
     * @internal
     *
     * @throws InvalidArgumentException once closed.
     */
    public function handle(): CData
    {
        return $this->handle ?? throw new InvalidArgumentException(
            'invalid argument: the Limiter is closed',
            Exception::EINVAL,
        );
    }

    /**
     * Throws what the PHP clock threw during the last C call.
     *
     * @internal
     */
    public function rethrowClock(): void
    {
        $this->clock?->rethrow();
    }
}
