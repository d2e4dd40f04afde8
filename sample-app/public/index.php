<?php
// Front controller: apache sends every request that is not a file here (FallbackResource).

declare(strict_types=1);

require __DIR__ . '/../bootstrap/app.php';

function send_json(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($body, JSON_UNESCAPED_SLASHES), "\n";
}

function health_check(): void
{
    send_json(200, ['status' => 'ok']);
}

$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
$handler = app_routes()["{$method} {$path}"] ?? null;

if ($handler === null) {
    send_json(404, ['error' => 'not found']);
} else {
    $handler();
}
