<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * A bad argument or setting: RG_EINVAL, RG_ERANGE (challenge ranges that
 * cannot make a question), RG_ETOOBIG. Also thrown by the binding itself,
 * with RG_EINVAL, for values PHP would otherwise silently wrap or truncate
 * on their way to C.
 */
class InvalidArgumentException extends Exception
{
}
