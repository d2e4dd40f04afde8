"""The four steps Secrets Manager drives for a database secret whose database side a one-off
Fargate task sets, shared by the two rotation Lambdas: rotation.py (the app user, two users
taking turns) and master_rotation.py (the master, one user). The inliner puts this file ahead
of each handler, so both run the same steps under Lambda's 4 KB limit for inline code.

Each Lambda gets its own task definition: setSecret runs it and waits. That task signs in to
MySQL and changes the user named in the AWSPENDING version, then signs in as that user: that
is the test, so testSecret does nothing (Secrets Manager also calls it alone, when a schedule
is set without rotating at once).
"""

import json
import os
import time

import boto3

# What the rotation stack gives: RUN_TASK (RunTask's arguments as JSON: the task, its cluster and
# network), PASSWORD_RULES (GetRandomPassword's, the data stack's rules), CONTAINER, LOG_GROUP,
# STREAMS (the container's log stream prefix).
ENV = os.environ


def rotate(event, context, username):
    """One step for one version; `username` turns the current user into the pending one's."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    sm = boto3.client("secretsmanager")
    versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    stages = versions.get(token, [])
    if "AWSCURRENT" in stages:
        return "already current"
    if "AWSPENDING" not in stages:
        raise ValueError(f"{token} is not pending")
    if step == "createSecret":
        return create(sm, arn, token, username)
    if step == "setSecret":
        return run_task(context)
    if step == "testSecret":
        return "tested by setSecret"
    if step == "finishSecret":
        current = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )
        return "finished"
    raise ValueError(f"unknown step {step}")


def create(sm, arn, token, username):
    try:
        sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return "already pending"
    except sm.exceptions.ResourceNotFoundException:
        pass
    secret = json.loads(
        sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    secret["username"] = username(secret["username"])
    rules = ENV["PASSWORD_RULES"]
    secret["password"] = sm.get_random_password(**json.loads(rules))["RandomPassword"]
    sm.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(secret),
        VersionStages=["AWSPENDING"],
    )
    return f"pending for {secret['username']}"


def run_task(context):
    ecs = boto3.client("ecs")
    run = json.loads(ENV["RUN_TASK"])
    cluster = run["cluster"]
    answer = ecs.run_task(**run)
    if not answer["tasks"]:
        raise RuntimeError(f"rotation task did not start: {answer['failures']}")
    arn = answer["tasks"][0]["taskArn"]
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            break
        # Under 30 s left: stop the task and fail; Secrets Manager retries the rotation.
        if context.get_remaining_time_in_millis() < 30000:
            ecs.stop_task(cluster=cluster, task=arn, reason="rotation timed out")
            raise RuntimeError("rotation task ran out of time")
        time.sleep(10)
    name = ENV["CONTAINER"]
    code = next(c for c in task["containers"] if c["name"] == name).get("exitCode")
    if code == 0:
        return "user set"
    how = f"exited {code}" if code is not None else f"stopped: {task.get('stoppedReason')}"
    raise RuntimeError(f"{name} step {how}; last log lines: {log_tail(arn)}")


def log_tail(task_arn):
    stream = ENV["STREAMS"] + task_arn.split("/")[-1]  # PREFIX/CONTAINER/TASK_ID
    try:
        events = boto3.client("logs").get_log_events(
            logGroupName=ENV["LOG_GROUP"], logStreamName=stream, limit=20
        )["events"]
    except Exception as error:  # the cause matters more than the log
        return f"(unreadable: {error})"
    return " | ".join(e["message"].strip() for e in events) or "(none)"
