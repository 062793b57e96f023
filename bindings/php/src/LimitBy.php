<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * Whose submissions the judge's rate limits count together (rg_limit_by):
 * each client address (the default), each binding (a post or a form,
 * whoever posts), or each client on each binding.
 */
enum LimitBy: string
{
    case Client = 'client';
    case Binding = 'binding';
    case ClientBinding = 'client_binding';

    /** This setting's rg_limit_by number. */
    public function toC(): int
    {
        return match ($this) {
            self::Client => 0,
            self::Binding => 1,
            self::ClientBinding => 2,
        };
    }
}
