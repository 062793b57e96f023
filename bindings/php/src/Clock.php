<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * A PHP callable standing in for a C clock (rg_config.clock, or
 * rg_limiter_config.clock_ns), so that tests and simulations can move time.
 *
 * FFI turns the closure from callback() into a C function pointer. An
 * exception must not cross back into C, so one thrown by the callable is
 * kept, the C library is given time() instead, and the binding throws it
 * once the C call has returned (rethrow()).
 *
 * @internal Guard and Limiter take the callable as their `clock` argument.
 */
final class Clock
{
    private ?\Throwable $error = null;

    /**
     * @param \Closure $read     the caller's clock, returning an int
     * @param int      $fallback multiplier of time() used when it throws
     *                           (1 for seconds, 1000000000 for nanoseconds)
     */
    public function __construct(
        private readonly \Closure $read,
        private readonly int $fallback,
    ) {
    }

    /**
     * The closure to store in the C struct's function pointer field. It
     * holds this object only, never a Guard or Limiter, so that those are
     * freed as soon as the application lets them go.
     */
    public function callback(): \Closure
    {
        return function ($arg): int {
            try {
                $now = ($this->read)();
                if (!is_int($now)) {
                    throw new InvalidArgumentException(
                        'invalid argument: the clock must return an int',
                        Exception::EINVAL,
                    );
                }
                return max(0, $now);
            } catch (\Throwable $e) {
                $this->error ??= $e;
                return time() * $this->fallback;
            }
        };
    }

    /**
     * Throws what the callable threw during the last C call, if anything.
     */
    public function rethrow(): void
    {
        if ($this->error !== null) {
            $e = $this->error;
            $this->error = null;
            throw $e;
        }
    }
}
