<?php
// The schedule: cron expression => [task name, function]. `schedule:run` runs the tasks due
// in the current minute; cron calls it every minute (docker/scheduler/crontab).

return [
    ['* * * * *', 'heartbeat', static function (): void {
        app_log('info', 'scheduled task ran', ['task' => 'heartbeat']);
    }],
];
