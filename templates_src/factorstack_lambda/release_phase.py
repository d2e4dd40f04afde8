"""The release phase's custom resource: run the release task once, wait for it, report.

Runs in AWS Lambda (stdlib and boto3 only); factorstack inlines it into the release stack
with docstrings and comments stripped, under Lambda's 4 KB limit for inline code.

Create or Update: start the release task (a new task definition means a new release or a new
command; a new app secret version means its database user must be set again), poll until it
stops, answer SUCCESS when every step (`Steps`: the database user setup, then the release
command) exited 0, else FAILED with the first failing step's exit code and the last lines of
its log. Past Lambda's own time limit it hands the wait to a
fresh invocation of itself. Delete, and the Update a rollback sends, run nothing: a rollback
must never re-run an old release command.
"""

import json
import time
import urllib.request

import boto3

POLL_SECONDS = 10
HAND_OVER_MS = 60000  # less than this left: hand the wait to a new invocation
LOG_LINES = 20
REASON_CHARS = 3000  # CloudFormation keeps a response under 4 KB


def handler(event, context):
    try:
        if event["RequestType"] == "Delete" or "ROLLBACK" in stack_status(event["StackId"]):
            return respond(event, "SUCCESS", "nothing to run")
        props = event["ResourceProperties"]
        if "TaskArn" not in event:
            event["TaskArn"] = start(props)
            event["Deadline"] = time.time() + int(props["TimeoutSeconds"])
        return wait(event, context, props)
    except Exception as error:  # CloudFormation must get an answer, or it waits an hour
        return respond(event, "FAILED", f"release phase: {error}")


def stack_status(stack_id):
    return boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0][
        "StackStatus"
    ]


def start(props):
    answer = boto3.client("ecs").run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        startedBy="factorstack",
        networkConfiguration={  # private subnets: no public address (the default)
            "awsvpcConfiguration": {
                "subnets": props["Subnets"],
                "securityGroups": [props["SecurityGroup"]],
            }
        },
    )
    if not answer.get("tasks"):
        raise RuntimeError(f"the release task did not start: {answer['failures']}")
    return answer["tasks"][0]["taskArn"]


def wait(event, context, props):
    ecs = boto3.client("ecs")
    while True:
        task = ecs.describe_tasks(cluster=props["Cluster"], tasks=[event["TaskArn"]])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            return finish(event, props, task)
        if time.time() > event["Deadline"]:
            ecs.stop_task(cluster=props["Cluster"], task=event["TaskArn"], reason="timed out")
            return respond(event, "FAILED", f"release task ran over {props['TimeoutSeconds']} s")
        if context.get_remaining_time_in_millis() < HAND_OVER_MS:
            boto3.client("lambda").invoke(
                FunctionName=context.invoked_function_arn,
                InvocationType="Event",
                Payload=json.dumps(event).encode(),
            )
            return
        time.sleep(POLL_SECONDS)


def finish(event, props, task):
    steps = {c["name"]: c for c in task["containers"]}
    # The first step that failed; the ones after it never started.
    name = next((n for n in props["Steps"] if steps[n].get("exitCode") != 0), None)
    if name is None:
        return respond(event, "SUCCESS", "release task exited 0")
    code = steps[name].get("exitCode")
    how = f"exited {code}"
    if code is None:
        how = f"stopped with no exit code: {steps[name].get('reason') or task.get('stoppedReason')}"
    what = "release task" if name == props.get("Container") else f"{name} step"
    return respond(event, "FAILED", f"{what} {how}; last log lines: {log_tail(props, name, event)}")


def log_tail(props, name, event):
    stream = f"{props['StreamPrefix']}/{name}/{event['TaskArn'].split('/')[-1]}"
    try:
        events = boto3.client("logs").get_log_events(
            logGroupName=props["LogGroup"], logStreamName=stream, limit=LOG_LINES
        )["events"]
    except Exception as error:  # the answer matters more than the log
        return f"(unreadable: {error})"
    return " | ".join(e["message"].strip() for e in events) or "(none)"


def respond(event, status, reason):
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:REASON_CHARS],
            "PhysicalResourceId": event["ResourceProperties"]["TaskDefinition"],
            **{key: event[key] for key in ("StackId", "RequestId", "LogicalResourceId")},
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    urllib.request.urlopen(request, timeout=30).close()
    return status
