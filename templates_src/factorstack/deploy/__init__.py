"""Deploy: the only code that talks to AWS (package, change set, review, guard, apply).

It reads `build/ENV/` and never builds templates. Four rooms, importing only downwards:

  the workflows (this folder): bootstrap.py, plan.py, apply.py, release.py, and the steps they
      share (flow.py, execute.py, follow_up.py, package.py, preflight.py, docker.py,
      revision.py); the day-two commands status.py, run.py, logs.py and what they share
      (day_two.py); commands.py wires them to the CLI, context.py holds what they share
  aws/      the gateway: every AWS call, errors translated in one place, throttling retried by
            the clients themselves
  present/  what people and the next command read: tables, Markdown, plan.json
  decide/   pure decisions over plain data, tested by feeding them recorded AWS answers

local/ is the local AWS endpoint (moto) and the helpers that fill it, through the gateway.
"""
