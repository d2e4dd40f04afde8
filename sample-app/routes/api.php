<?php
// Routes: "METHOD path" => the name of a handler function in public/index.php.
// Kept as plain strings so that `php artisan route:cache` can write them to a file.

return [
    'GET /api/health-check' => 'health_check',
    'HEAD /api/health-check' => 'health_check',
];
