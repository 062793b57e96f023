<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

/**
 * PHP's built-in server on 127.0.0.1, on a port the system picks, for as
 * long as the object lives; and HTTP requests to it.
 */
final class Server
{
    /** @var resource */
    private $process;

    public readonly string $address;

    /**
     * @param string                 $router the script for every request
     * @param list<string>           $ini    php -d settings
     * @param array<string, ?string> $env    changes to the environment
     * @param string                 $log    where the server's log goes
     */
    public function __construct(string $router, array $ini, array $env, private readonly string $log)
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0');
        if ($probe === false) {
            throw new \RuntimeException('no free port on 127.0.0.1');
        }
        $name = (string) stream_socket_get_name($probe, false);
        fclose($probe);
        $this->address = '127.0.0.1:' . substr($name, strrpos($name, ':') + 1);

        $environment = getenv();
        foreach ($env as $key => $value) {
            if ($value === null) {
                unset($environment[$key]);
            } else {
                $environment[$key] = $value;
            }
        }
        $cmd = [PHP_BINARY];
        foreach ($ini as $setting) {
            array_push($cmd, '-d', $setting);
        }
        array_push($cmd, '-S', $this->address, $router);
        $process = proc_open(
            $cmd,
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']],
            $pipes,
            null,
            $environment,
        );
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start ' . PHP_BINARY . ' -S');
        }
        $this->process = $process;
        for ($i = 0; $i < 100; $i++) {
            $s = @stream_socket_client("tcp://$this->address", $errno, $errstr, 0.1);
            if ($s !== false) {
                fclose($s);
                return;
            }
            usleep(50_000);
        }
        $this->stop();
        throw new \RuntimeException('the built-in server did not start: ' . file_get_contents($log));
    }

    public function __destruct()
    {
        $this->stop();
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
    }

    /** What the server wrote to its log so far. */
    public function log(): string
    {
        return (string) @file_get_contents($this->log);
    }

    /**
     * One HTTP request; redirects are not followed.
     *
     * @param array<string, string> $form a POST's fields
     *
     * @return array{int, string, string} status, headers, body
     */
    public function request(string $method, string $path, array $form = []): array
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n",
            'content' => http_build_query($form),
            'ignore_errors' => true,
            'follow_location' => 0,
            'timeout' => 10,
        ]]);
        $body = @file_get_contents("http://$this->address$path", false, $context);
        $headers = $http_response_header ?? [];
        preg_match('/^HTTP\/\S+ (\d+)/', $headers[0] ?? '', $m);
        return [(int) ($m[1] ?? 0), implode("\n", $headers), (string) $body];
    }
}
