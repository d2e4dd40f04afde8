"""Deploy's decisions: pure functions from plain data (what AWS answered, what the build holds)
to plain data, a refusal or a message. Nothing here calls AWS, prints, or writes a file, so each
decision is tested by feeding it recorded answers.

  stacks.py        a Stack; CREATE, UPDATE, wait, recreate or refuse; did it move since a plan
  change_sets.py   a ChangeSet and its request; naming; no-op, failed, executable
  review.py        the rows of the whole nested tree
  guard/           the data-loss guard: findings, offline prediction, verdict
  parameters.py    the root parameters of a change set
  follow_up.py     the follow-up update: its values, parameters and allowed rows
  events.py        stack events: nested stacks they lead to, the root cause of a failure
  images.py        the images a plan needs; refusing missing ones
  preflight_needs.py, preflight_rules.py   what a build needs from the account; what answers mean
  service_roles.py the service-linked roles bootstrap makes sure of
  deployed.py      a deployed environment from its root stack's outputs (status, run, logs)
  services.py      ECS services, task definitions, one-off tasks and their exit codes
  log_events.py    --since, who wrote a line, interleaving by time, what a follow has shown
  status.py        an environment's status and its JSON
"""
