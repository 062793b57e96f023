<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * Not an IPv4 or IPv6 address (RG_EADDRESS): a client address given to
 * Limiter::clientKey(), or to judge() while a limiter counts by client.
 */
class AddressException extends InvalidArgumentException
{
}
