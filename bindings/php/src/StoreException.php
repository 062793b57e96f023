<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * A store problem: a malformed or unsupported URL (RG_EURL), a store
 * that fails or cannot be reached (RG_ESTORE), one full of live entries
 * (RG_EFULL), a backend this build lacks (RG_ENOSUPPORT), RG_EPERM.
 */
class StoreException extends Exception
{
}
