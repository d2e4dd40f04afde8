"""Root stack: one AWS::CloudFormation::Stack per child, wiring each child's outputs into the
next child's parameters. Children never reference each other directly.

Each builder takes the outputs it needs as typed handles and returns its own outputs the same
way, so the root passes objects and never spells an output or parameter name.
`build_stack_set` reads like a table of contents of what an environment is made of.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Join, Output, Parameter, Template

from factorstack.model import AppModel, Cache
from factorstack.stacks.alerts import AlertsOutputs, build_alerts
from factorstack.stacks.autoscaling import build_autoscaling
from factorstack.stacks.cluster import ClusterOutputs, build_cluster
from factorstack.stacks.common import CREATE_FIRST_WITH, FAILOVER_AFTER_REPLICAS, new_template
from factorstack.stacks.data import CACHE_FAILOVER, CACHE_NODES, CacheShape, DataOutputs, build_data
from factorstack.stacks.endpoints import build_endpoints
from factorstack.stacks.nat_instance import add_image_parameter
from factorstack.stacks.network import NetworkOutputs, build_network
from factorstack.stacks.process import ProcessOutputs, ProcessSources, build_process
from factorstack.stacks.release_phase import ReleasePhaseOutputs, build_release_phase
from factorstack.stacks.rotation import build_rotation, rotates
from factorstack.stacks.wiring import Built, Handle

ROOT_FILE = "root.json"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


def build_stack_set(model: AppModel) -> dict[str, Template]:
    """Every template of one environment, keyed by file name, the root first."""
    root = new_template(f"{model.app} {model.environment}: twelve-factor app on ECS Fargate")
    image_tag = _image_tag(root)
    network = build_network(model, nat_image=add_image_parameter(root, model))
    cluster = build_cluster(
        model, network=network.outputs, deletion_protection=_balancer_protection(root, model)
    )
    data = _data(root, model, network.outputs, cluster.outputs)
    data_outputs = None if data is None else data.outputs
    alerts = build_alerts(model, cluster=cluster.outputs, data=data_outputs)
    endpoints = None  # interface endpoints: an option, since each bills per zone and hour
    if model.network.interface_endpoints:
        endpoints = build_endpoints(model, network=network.outputs, cluster=cluster.outputs)
    sources = ProcessSources(
        network=network.outputs,
        cluster=cluster.outputs,
        data=data_outputs,
        image_tag=image_tag,
        alarm_topic_arn=alerts.outputs.topic_arn,
    )
    release = None
    if model.release_phase is not None or model.database is not None:  # the app's db user
        release = build_release_phase(model, sources)
    rotation = _rotation(model, sources, release)
    processes = {p.name: build_process(model, p, sources) for p in model.processes}
    if release is not None:  # no service rolls before the release phase succeeded
        for built in processes.values():
            built.resource.DependsOn = [release.resource.title]
    services = {name: built.outputs for name, built in processes.items()}
    autoscaling = None
    if model.scaled_processes:
        autoscaling = build_autoscaling(model, cluster=cluster.outputs, services=services)

    templates = {ROOT_FILE: root}
    children = (network, cluster, data, alerts, endpoints, release, rotation, *processes.values())
    for child in (*children, autoscaling):
        if child is not None:
            root.add_resource(child.resource)
            templates[child.file] = child.template
    _root_outputs(root, model, image_tag, (cluster.outputs, alerts.outputs), services)
    return templates


def _rotation(
    model: AppModel, sources: ProcessSources, release: Built[ReleasePhaseOutputs] | None
) -> Built[None] | None:
    """Rotation of the app user's secret (two users taking turns), once that user exists."""
    if not rotates(model.database):
        return None
    rotation = build_rotation(model, sources)
    if release is not None:
        rotation.resource.DependsOn = [release.resource.title]
    return rotation


def _image_tag(root: Template) -> Handle:
    return Handle.of_root_parameter(
        root.add_parameter(
            Parameter(
                "ImageTag",
                Type="String",
                AllowedPattern=IMAGE_TAG_PATTERN,
                Description="Tag of the images to run (the release); "
                "the same tag for every process.",
            )
        )
    )


def _data(
    root: Template, model: AppModel, network: NetworkOutputs, cluster: ClusterOutputs
) -> Built[DataOutputs] | None:
    """The data stack, when the app has a database or a cache."""
    if model.database is None and model.cache is None:
        return None
    protection = None
    if model.database is not None:
        protection = _protection(
            root,
            "DatabaseDeletionProtection",
            model.database.deletion_protection,
            "RDS deletion protection; deploy creates the database without it and turns it on "
            "right after (a failed first create can then roll back).",
        )
    shape = None if model.cache is None else _cache_shape(root, model.cache)
    return build_data(
        model,
        network=network,
        cluster=cluster,
        deletion_protection=protection,
        cache_shape=shape,
    )


def _cache_shape(root: Template, cache: Cache) -> CacheShape:
    """The cache's node count and failover as root parameters, named as a pair in the metadata:
    deploy changes them one at a time when ElastiCache cannot take both in one update."""
    nodes = root.add_parameter(
        Parameter(
            CACHE_NODES,
            Type="Number",
            MinValue=1,
            MaxValue=6,
            Default=1 + cache.replicas,
            Description="Cache nodes: the primary plus its replicas (environment file).",
        )
    )
    failover = root.add_parameter(
        Parameter(
            CACHE_FAILOVER,
            Type="String",
            AllowedValues=["true", "false"],
            Default="true" if cache.replicas else "false",
            Description="Cache automatic failover and Multi-AZ: on with a replica; deploy "
            "changes the node count and this in two updates when both change.",
        )
    )
    metadata = dict(root.metadata or {})
    metadata[FAILOVER_AFTER_REPLICAS] = {"failover": CACHE_FAILOVER, "nodes": CACHE_NODES}
    root.set_metadata(metadata)
    return CacheShape(Handle.of_root_parameter(nodes), Handle.of_root_parameter(failover))


def _balancer_protection(root: Template, model: AppModel) -> Handle | None:
    """The load balancer's deletion protection, when there is a load balancer."""
    if model.load_balanced_process is None:
        return None
    return _protection(
        root,
        "LoadBalancerDeletionProtection",
        model.edge.deletion_protection,
        "Load balancer deletion protection; deploy creates the load balancer without it and "
        "turns it on right after (a failed first create can then roll back).",
    )


def _protection(root: Template, name: str, wanted: bool, description: str) -> Handle:
    """A deletion protection: the environment's value, off during a first create (protection
    refuses the delete that rolling back a failed create needs)."""
    parameter = root.add_parameter(
        Parameter(
            name,
            Type="String",
            AllowedValues=["true", "false"],
            Default="true" if wanted else "false",
            Description=description,
        )
    )
    if wanted:
        metadata = dict(root.metadata or {})
        metadata[CREATE_FIRST_WITH] = {**metadata.get(CREATE_FIRST_WITH, {}), name: "false"}
        root.set_metadata(metadata)
    return Handle.of_root_parameter(parameter)


def _root_outputs(
    root: Template,
    model: AppModel,
    image_tag: Handle,
    stacks: tuple[ClusterOutputs, AlertsOutputs],
    services: Mapping[str, ProcessOutputs],
) -> None:
    """What a person (or a script) reads off the root: the release, the URL, names to look up."""
    cluster, alerts = stacks

    def add(handle: Handle, description: str, name: str | None = None) -> None:
        root.add_output(Output(name or handle.name, Value=handle.in_root, Description=description))

    add(image_tag, "The release this stack runs.")
    if cluster.load_balancer is not None:
        add(cluster.load_balancer.app_url, "Where the app answers.")
    add(cluster.cluster_name, "ECS cluster.")
    if model.alarm_topic:
        add(alerts.topic_arn, "SNS topic every alarm notifies: subscribe a person or a pager.")
    for process in model.processes:
        service_name = services[process.name].service_name
        add(service_name, f"ECS service of {process.name}.", service_name.prefixed(process.logical))
    # One output for every log group keeps the root at n + 3 outputs (limit 200).
    root.add_output(
        Output(
            "LogGroupNames",
            Value=Join(",", [cluster.log_group_names[p.name].in_root for p in model.processes]),
            Description="Log groups of the processes, in app.yaml's order, comma-separated.",
        )
    )
