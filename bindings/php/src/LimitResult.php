<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI\CData;

/**
 * The outcome of one Limiter::take() (rg_limit_result).
 */
final class LimitResult
{
    /** retryAfterMs of a take that can never fit (a cost above limit). */
    public const RETRY_NEVER = PHP_INT_MAX;

    /** True: go ahead (the cost was charged); false: limited (nothing was). */
    public readonly bool $allowed;

    /** burst + 1: the most a rested key allows at once. */
    public readonly int $limit;

    /** Takes of cost 1 that would fit right now. */
    public readonly int $remaining;

    /**
     * When limited, milliseconds until the same take would fit;
     * RETRY_NEVER when it never can (a cost above the limit); 0 when
     * allowed.
     */
    public readonly int $retryAfterMs;

    /** Milliseconds until the key has fully rested. */
    public readonly int $resetAfterMs;

    /**
     * @internal Limiter::take() makes results.
     */
    public function __construct(CData $r)
    {
        $this->allowed = $r->allowed !== 0;
        $this->limit = $r->limit;
        $this->remaining = $r->remaining;
        $this->retryAfterMs = Library::u64($r->retry_after_ms);
        $this->resetAfterMs = Library::u64($r->reset_after_ms);
    }
}
