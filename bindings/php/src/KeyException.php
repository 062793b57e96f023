<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * A signing key problem: none added yet (RG_ENOKEY), a duplicate id or
 * wrong size (RG_EKEY), a key file missing, unreadable or malformed
 * (RG_EKEYFILE).
 */
class KeyException extends Exception
{
}
