//! Scenario -> FIS experiment template. Targets name nodes by their labels as resource tags
//! (their `aws.arns` when unlabelled, a `Name` tag as the last resort), zone faults carry AZ
//! filters and parameters with the zones' AWS names, faults that start when another ends get
//! `startAfter` (others wait with `aws:fis:wait`), and the hypotheses become stop conditions
//! on CloudWatch alarms that are placeholders, marked `REPLACE-ME`, for the user to fill in.
//! What FIS cannot do is named in the warnings. `import` gives the exported faults back.

use indexmap::IndexMap;

use crate::kernel::Dist;
use crate::model::{
    FaultKind, FaultSpec, FaultTarget, NodeId, NodeKind, Scenario, Selection, Topology, ZoneId,
};

use super::iso8601::format_iso8601;
use super::map::{ECS_REPLACEMENT_NS, POD_REPLACEMENT_NS};
use super::targets::primary;
use super::template::{Action, Filter, StopCondition, Target, Template};

/// The account id in every placeholder ARN: FIS rejects it, so nothing runs unfilled.
pub const PLACEHOLDER_ACCOUNT: &str = "REPLACE-ME-ACCOUNT";

/// The template and what could not be exported.
#[derive(Clone, Debug)]
pub struct Exported {
    pub template: Template,
    pub warnings: Vec<String>,
}

/// Exports `scenario`'s faults. `role_arn`: the role FIS runs as (a placeholder without).
pub fn export(scenario: &Scenario, role_arn: Option<&str>) -> Exported {
    let topology = &scenario.topology;
    let mut builder = Builder {
        topology,
        scenario,
        template: Template::default(),
        warnings: Vec::new(),
        ends: Vec::new(),
    };
    let t0 = scenario
        .faults
        .iter()
        .map(|f| f.start_ns)
        .min()
        .unwrap_or(0);
    for (index, fault) in scenario.faults.iter().enumerate() {
        builder.fault(index, fault, t0);
    }
    let Builder {
        mut template,
        warnings,
        ..
    } = builder;
    template.description = description(scenario);
    template.role_arn = role_arn.map_or_else(
        || format!("arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/REPLACE-ME-fis-experiment-role"),
        str::to_string,
    );
    template.stop_conditions = stop_conditions(scenario);
    // botocore requires the idempotency token boto would generate; a stable one keeps the
    // output a function of the scenario.
    let token = crate::kernel::stable_id(
        "fis-template",
        &format!("{}\n{}", scenario.name, scenario.path.display()),
    );
    template.client_token = Some(format!("blastradius-{token:016x}"));
    template
        .tags
        .insert("Name".into(), truncate(&scenario.name, 256));
    template.tags.insert(
        "blastradius:scenario".into(),
        truncate(&scenario.path.display().to_string(), 256),
    );
    Exported { template, warnings }
}

fn description(scenario: &Scenario) -> String {
    let text = format!(
        "{} (exported by blastradius from {}). Stop conditions are REPLACE-ME placeholders: point them at your CloudWatch alarms before running.",
        scenario.name,
        scenario.path.display()
    );
    truncate(&text, 512)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// One stop condition per hypothesis, on an alarm to be made (its name says what it watches).
fn stop_conditions(scenario: &Scenario) -> Vec<StopCondition> {
    let region = scenario
        .topology
        .aws
        .region
        .as_deref()
        .unwrap_or("REPLACE-ME-REGION");
    let conditions: Vec<StopCondition> = scenario
        .hypotheses
        .iter()
        .map(|h| {
            let subject = h.queue.map_or_else(|| scenario.topology.workloads[h.workload.0 as usize].name.clone(), |q| scenario.topology.node(q).name.clone());
            StopCondition {
                source: "aws:cloudwatch:alarm".into(),
                value: Some(format!("arn:aws:cloudwatch:{region}:{PLACEHOLDER_ACCOUNT}:alarm:REPLACE-ME-{subject}-{}", h.metric.as_str())),
            }
        })
        .collect();
    if conditions.is_empty() {
        return vec![StopCondition {
            source: "none".into(),
            value: None,
        }];
    }
    conditions
}

struct Builder<'a> {
    topology: &'a Topology,
    scenario: &'a Scenario,
    template: Template,
    warnings: Vec<String>,
    /// (end time, action name) of the faults exported so far, for `startAfter`.
    ends: Vec<(u64, String)>,
}

impl Builder<'_> {
    fn fault(&mut self, index: usize, fault: &FaultSpec, t0: u64) {
        let label = format!(
            "fault {} ({}, line {})",
            index + 1,
            fault.kind.as_str(),
            fault.line
        );
        let start_after = self.start_after(index, fault, t0);
        let before = self.template.actions.len();
        let run_left = self.scenario.duration_ns.saturating_sub(fault.start_ns);
        let result = match (&fault.kind, &fault.target) {
            (FaultKind::ZoneOutage { recovery_ns }, FaultTarget::Zone(zone)) => {
                self.zone_outage(index, *zone, fault.duration_ns, *recovery_ns, run_left)
            }
            (FaultKind::ZonePartition, FaultTarget::ZoneCut(zones)) if zones.len() == 1 => {
                self.partition(index, zones[0], fault.duration_ns.unwrap_or(run_left))
            }
            (FaultKind::Crash { restart_after_ns }, target) => {
                self.crash(index, target, fault.selection, *restart_after_ns)
            }
            (FaultKind::Latency { added, share }, FaultTarget::Node(node)) => self.latency(
                index,
                *node,
                added,
                *share,
                fault.duration_ns.unwrap_or(run_left),
            ),
            (FaultKind::Blackhole { share }, FaultTarget::Node(node)) => {
                self.packet_loss(index, *node, *share, fault.duration_ns.unwrap_or(run_left))
            }
            (FaultKind::Errors { share }, FaultTarget::Edge { from, to }) => self.api_errors(
                index,
                *from,
                *to,
                *share,
                fault.duration_ns.unwrap_or(run_left),
            ),
            (FaultKind::ZonalShift { nodes }, FaultTarget::Zone(zone)) => {
                self.zonal_shift(index, *zone, nodes, fault.duration_ns.unwrap_or(run_left))
            }
            (FaultKind::Capacity { workers: 0 }, target) => self.volumes(
                index,
                target,
                fault.selection,
                fault.duration_ns.unwrap_or(run_left),
            ),
            _ => Err("FIS has no action for it".to_string()),
        };
        match result {
            Ok(anchor) => {
                for (_, action) in self.template.actions.iter_mut().skip(before) {
                    action.start_after = start_after.clone();
                }
                self.ends.push((fault.end_ns(), anchor));
            }
            Err(why) => self.warnings.push(format!("{label} not exported: {why}")),
        }
    }

    /// `startAfter` for a fault starting at `fault.start_ns`: the action of a fault that ends
    /// then, else a wait from the experiment's start.
    fn start_after(&mut self, index: usize, fault: &FaultSpec, t0: u64) -> Vec<String> {
        if fault.start_ns == t0 {
            return Vec::new();
        }
        if let Some((_, name)) = self.ends.iter().find(|(end, _)| *end == fault.start_ns) {
            return vec![name.clone()];
        }
        let name = format!("wait-{}", index + 1);
        let mut parameters = IndexMap::new();
        parameters.insert("duration".into(), format_iso8601(fault.start_ns - t0));
        self.template.actions.insert(
            name.clone(),
            Action {
                action_id: "aws:fis:wait".into(),
                parameters,
                ..Action::default()
            },
        );
        vec![name]
    }

    fn name(&self, id: NodeId) -> &str {
        &self.topology.node(id).name
    }

    fn az(&self, zone: ZoneId) -> String {
        self.topology
            .aws
            .az_name(&self.topology.zones, zone)
            .to_string()
    }

    fn resource_type(&self, id: NodeId) -> &str {
        self.topology
            .aws
            .resource_type(id, self.topology.node(id).kind)
    }

    /// A target for node `id` of `resource_type`: its labels as tags, else its ARNs, else a
    /// `Name` tag with its name (which `import` matches to an unlabelled node's name).
    fn target(
        &mut self,
        name: &str,
        id: NodeId,
        resource_type: &str,
        selection: Selection,
    ) -> String {
        let node = self.topology.node(id);
        let mut target = Target {
            resource_type: resource_type.into(),
            selection_mode: selection_mode(selection),
            ..Target::default()
        };
        let arns = &self.topology.aws.node(id).arns;
        if !node.labels.is_empty() {
            target.resource_tags = node
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        } else if !arns.is_empty() && resource_type == self.resource_type(id) {
            target.resource_arns = arns.clone();
        } else {
            target
                .resource_tags
                .insert("Name".into(), node.name.clone());
        }
        self.template.targets.insert(name.to_string(), target);
        name.to_string()
    }

    fn in_zone(&mut self, target: &str, zone: ZoneId, filter: bool) {
        let az = self.az(zone);
        let target = self
            .template
            .targets
            .get_mut(target)
            .expect("just inserted");
        if filter {
            target.filters.push(Filter {
                path: "Placement.AvailabilityZone".into(),
                values: vec![az],
            });
            target.filters.push(Filter {
                path: "State.Name".into(),
                values: vec!["running".into()],
            });
        } else {
            target
                .parameters
                .insert("availabilityZoneIdentifier".into(), az);
        }
    }

    fn action(
        &mut self,
        name: &str,
        id: &str,
        key: &str,
        target: &str,
        parameters: &[(&str, String)],
    ) -> String {
        let mut action = Action {
            action_id: id.into(),
            ..Action::default()
        };
        action.targets.insert(key.into(), target.into());
        action.parameters = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.template.actions.insert(name.to_string(), action);
        name.to_string()
    }

    /// FIS's AZ Power Interruption: the zone's instances stopped (restarting at the end),
    /// its caches' power cut, the databases whose primary is there failed over, its subnets
    /// cut for the first two minutes, and, for a recovery phase, no capacity for that long
    /// after power returns.
    fn zone_outage(
        &mut self,
        index: usize,
        zone: ZoneId,
        duration: Option<u64>,
        recovery: Option<u64>,
        run_left: u64,
    ) -> Result<String, String> {
        let topology = self.topology;
        let z = &topology.zones[zone.index()];
        let mut anchor = None;
        let lasting = duration.unwrap_or(run_left);
        for id in (0..topology.nodes.len())
            .map(|i| NodeId(i as u32))
            .filter(|&id| topology.node(id).zones.contains(&zone))
        {
            let node = self.name(id).to_string();
            match (topology.node(id).kind, self.resource_type(id)) {
                (NodeKind::Service, "aws:ec2:instance" | "aws:ecs:task" | "aws:eks:pod") => {
                    let target = self.target(&format!("{node}-instances-{z}"), id, "aws:ec2:instance", Selection::All);
                    self.in_zone(&target, zone, true);
                    let mut params = vec![("completeIfInstancesTerminated", "true".to_string())];
                    if let Some(d) = duration {
                        params.insert(0, ("startInstancesAfterDuration", format_iso8601(d)));
                    }
                    let name = self.action(&format!("stop-{node}-{z}-{}", index + 1), "aws:ec2:stop-instances", "Instances", &target, &params);
                    anchor.get_or_insert(name);
                    if let Some(r) = recovery.filter(|_| duration.is_some()) {
                        let asg = self.target(&format!("{node}-asg-{z}"), id, "aws:ec2:autoscaling-group", Selection::All);
                        let params = [("availabilityZoneIdentifiers", self.az(zone)), ("duration", format_iso8601(lasting + r)), ("percentage", "100".into())];
                        self.action(&format!("no-capacity-{node}-{z}-{}", index + 1), "aws:ec2:asg-insufficient-instance-capacity-error", "AutoScalingGroups", &asg, &params);
                    }
                }
                (NodeKind::Cache, "aws:elasticache:replicationgroup") => {
                    let target = self.target(&format!("{node}-{z}"), id, "aws:elasticache:replicationgroup", Selection::All);
                    self.in_zone(&target, zone, false);
                    self.action(&format!("power-{node}-{z}-{}", index + 1), "aws:elasticache:replicationgroup-interrupt-az-power", "ReplicationGroups", &target, &[("duration", format_iso8601(lasting))]);
                }
                (NodeKind::Database, "aws:rds:cluster") if primary(topology, id) == Some(zone) => {
                    let target = self.target(&format!("{node}-writer-{z}"), id, "aws:rds:cluster", Selection::All);
                    let az = self.az(zone);
                    self.template.targets[&target].parameters.insert("writerAvailabilityZoneIdentifiers".into(), az);
                    self.action(&format!("failover-{node}-{}", index + 1), "aws:rds:failover-db-cluster", "Clusters", &target, &[]);
                }
                (NodeKind::Database | NodeKind::External | NodeKind::Queue, _) => {}
                (_, other) => self.warnings.push(format!("fault {}: `{node}` ({other}) in {z} has no FIS power action; the imported outage will not be recognised", index + 1)),
            }
        }
        let subnets = self.subnets(zone);
        let cut = format_iso8601(lasting.min(120_000_000_000));
        self.action(
            &format!("disrupt-{z}-{}", index + 1),
            "aws:network:disrupt-connectivity",
            "Subnets",
            &subnets,
            &[("duration", cut), ("scope", "all".into())],
        );
        anchor.ok_or_else(|| format!("no EC2 service is placed in {z}"))
    }

    fn subnets(&mut self, zone: ZoneId) -> String {
        let name = format!("subnets-{}", self.topology.zones[zone.index()]);
        let filter = Filter {
            path: "AvailabilityZone".into(),
            values: vec![self.az(zone)],
        };
        let target = Target {
            resource_type: "aws:ec2:subnet".into(),
            filters: vec![filter],
            selection_mode: "ALL".into(),
            ..Target::default()
        };
        self.template.targets.insert(name.clone(), target);
        name
    }

    fn partition(&mut self, index: usize, zone: ZoneId, duration: u64) -> Result<String, String> {
        let subnets = self.subnets(zone);
        let name = format!(
            "partition-{}-{}",
            self.topology.zones[zone.index()],
            index + 1
        );
        Ok(self.action(
            &name,
            "aws:network:disrupt-connectivity",
            "Subnets",
            &subnets,
            &[
                ("duration", format_iso8601(duration)),
                ("scope", "availability-zone".into()),
            ],
        ))
    }

    fn crash(
        &mut self,
        index: usize,
        target: &FaultTarget,
        selection: Selection,
        restart: Option<u64>,
    ) -> Result<String, String> {
        let (id, zone) = match target {
            FaultTarget::Node(id) => (*id, None),
            FaultTarget::NodeInZone(id, zone) => (*id, Some(*zone)),
            _ => return Err("a crash of a zone is exported as a zone outage only".into()),
        };
        let node = self.name(id).to_string();
        let suffix = zone.map_or(String::new(), |z| {
            format!("-{}", self.topology.zones[z.index()])
        });
        let kind = self.resource_type(id).to_string();
        let exact = |fixed: u64| restart == Some(fixed);
        let (action_id, key, params): (&str, &str, Vec<(&str, String)>) = match kind.as_str() {
            "aws:ec2:instance" => (
                "aws:ec2:stop-instances",
                "Instances",
                restart
                    .map(|r| vec![("startInstancesAfterDuration", format_iso8601(r))])
                    .unwrap_or_default(),
            ),
            "aws:ecs:task" => ("aws:ecs:stop-task", "Tasks", Vec::new()),
            "aws:eks:pod" => ("aws:eks:pod-delete", "Pods", Vec::new()),
            "aws:elasticache:replicationgroup" if zone.is_some() && selection == Selection::All => {
                let d = restart.ok_or("a cache's power comes back: set `restart_after`")?;
                (
                    "aws:elasticache:replicationgroup-interrupt-az-power",
                    "ReplicationGroups",
                    vec![("duration", format_iso8601(d))],
                )
            }
            other => return Err(format!("FIS cannot stop a `{other}` this way")),
        };
        if (kind == "aws:ecs:task" && !exact(ECS_REPLACEMENT_NS))
            || (kind == "aws:eks:pod" && !exact(POD_REPLACEMENT_NS))
        {
            self.warnings.push(format!("fault {}: `{node}` restarts when its scheduler replaces it, not after the scenario's `restart_after`", index + 1));
        }
        let target = self.target(
            &format!("{node}{suffix}-{}", index + 1),
            id,
            &kind,
            selection,
        );
        if let Some(zone) = zone {
            self.in_zone(&target, zone, kind == "aws:ec2:instance");
        }
        Ok(self.action(
            &format!("crash-{node}{suffix}-{}", index + 1),
            action_id,
            key,
            &target,
            &params,
        ))
    }

    fn latency(
        &mut self,
        index: usize,
        id: NodeId,
        added: &Dist,
        share: f64,
        duration: u64,
    ) -> Result<String, String> {
        let (action_id, key) = self.network_action(
            id,
            "aws:ecs:task-network-latency",
            "aws:eks:pod-network-latency",
        )?;
        let (delay, jitter) = match added {
            Dist::Constant { value_ns } => (*value_ns, 0),
            Dist::Uniform { min_ns, max_ns } => ((min_ns + max_ns) / 2, (max_ns - min_ns) / 2),
            other => {
                self.warnings.push(format!("fault {}: FIS delays by a constant with jitter; the mean of the scenario's distribution is used", index + 1));
                (other.mean_ns().round() as u64, 0)
            }
        };
        let node = self.name(id).to_string();
        let target = self.target(
            &format!("{node}-{}", index + 1),
            id,
            &self.resource_type(id).to_string(),
            share_selection(share),
        );
        let params = [
            ("delayMilliseconds", (delay / 1_000_000).to_string()),
            ("jitterMilliseconds", (jitter / 1_000_000).to_string()),
            ("duration", format_iso8601(duration)),
        ];
        Ok(self.action(
            &format!("latency-{node}-{}", index + 1),
            action_id,
            key,
            &target,
            &params,
        ))
    }

    fn packet_loss(
        &mut self,
        index: usize,
        id: NodeId,
        share: f64,
        duration: u64,
    ) -> Result<String, String> {
        if self.resource_type(id) != "aws:eks:pod" {
            return Err("FIS drops packets of EKS pods only".into());
        }
        let node = self.name(id).to_string();
        let target = self.target(
            &format!("{node}-{}", index + 1),
            id,
            "aws:eks:pod",
            Selection::All,
        );
        let params = [
            ("lossPercent", format_number(share * 100.0)),
            ("duration", format_iso8601(duration)),
        ];
        Ok(self.action(
            &format!("packet-loss-{node}-{}", index + 1),
            "aws:eks:pod-network-packet-loss",
            "Pods",
            &target,
            &params,
        ))
    }

    fn network_action(
        &self,
        id: NodeId,
        ecs: &'static str,
        eks: &'static str,
    ) -> Result<(&'static str, &'static str), String> {
        match self.resource_type(id) {
            "aws:ecs:task" => Ok((ecs, "Tasks")),
            "aws:eks:pod" => Ok((eks, "Pods")),
            other => Err(format!(
                "FIS injects network faults into ECS tasks and EKS pods, not `{other}`"
            )),
        }
    }

    /// Errors on calls to an AWS API: FIS injects them into the caller's IAM role's requests.
    fn api_errors(
        &mut self,
        index: usize,
        from: NodeId,
        to: NodeId,
        share: f64,
        duration: u64,
    ) -> Result<String, String> {
        let service = self
            .topology
            .aws
            .node(to)
            .service
            .clone()
            .ok_or("the callee is not an AWS API (no `aws.service`)")?;
        let caller = self.name(from).to_string();
        let target = self.target(
            &format!("{caller}-role-{}", index + 1),
            from,
            "aws:iam:role",
            Selection::All,
        );
        let params = [
            ("service", service),
            ("percentage", format_number(share * 100.0)),
            ("operations", "*".into()),
            ("duration", format_iso8601(duration)),
        ];
        Ok(self.action(
            &format!("api-errors-{caller}-{}", index + 1),
            "aws:fis:inject-api-internal-error",
            "Roles",
            &target,
            &params,
        ))
    }

    fn zonal_shift(
        &mut self,
        index: usize,
        zone: ZoneId,
        nodes: &[NodeId],
        duration: u64,
    ) -> Result<String, String> {
        let z = self.topology.zones[zone.index()].clone();
        let name = format!("shift-{z}-{}", index + 1);
        let mut target = Target {
            resource_type: "aws:arc:zonal-shift-managed-resource".into(),
            selection_mode: "ALL".into(),
            ..Target::default()
        };
        target.resource_arns = nodes.iter().map(|&n| self.load_balancer_arn(n)).collect();
        if target.resource_arns.is_empty() {
            target
                .parameters
                .insert("availabilityZoneIdentifier".into(), self.az(zone));
        }
        self.template.targets.insert(name.clone(), target);
        let params = [
            ("availabilityZoneIdentifier", self.az(zone)),
            ("duration", format_iso8601(duration)),
            ("managedResourceTypes", "ALB,NLB,ASG,EKS".into()),
        ];
        Ok(self.action(
            &format!("zonal-shift-{z}-{}", index + 1),
            "aws:arc:start-zonal-autoshift",
            "ManagedResources",
            &name,
            &params,
        ))
    }

    /// The load balancer in front of a node: a listed ARN of one, else a placeholder ending in
    /// the node's name (which `import` matches back to it).
    fn load_balancer_arn(&self, id: NodeId) -> String {
        let listed = self
            .topology
            .aws
            .node(id)
            .arns
            .iter()
            .find(|a| a.contains(":elasticloadbalancing:"));
        let region = self
            .topology
            .aws
            .region
            .as_deref()
            .unwrap_or("REPLACE-ME-REGION");
        listed.cloned().unwrap_or_else(|| {
            format!(
                "arn:aws:elasticloadbalancing:{region}:{PLACEHOLDER_ACCOUNT}:loadbalancer/app/{}",
                self.name(id)
            )
        })
    }

    fn volumes(
        &mut self,
        index: usize,
        target: &FaultTarget,
        selection: Selection,
        duration: u64,
    ) -> Result<String, String> {
        let (id, zone) = match target {
            FaultTarget::Node(id) => (*id, None),
            FaultTarget::NodeInZone(id, zone) => (*id, Some(*zone)),
            _ => return Err("capacity 0 is exported as paused EBS volumes of a node".into()),
        };
        if self.resource_type(id) != "aws:ec2:instance" {
            return Err("FIS pauses the EBS volumes of EC2 instances only".into());
        }
        let node = self.name(id).to_string();
        let target = self.target(
            &format!("{node}-volumes-{}", index + 1),
            id,
            "aws:ec2:ebs-volume",
            selection,
        );
        if let Some(zone) = zone {
            self.in_zone(&target, zone, false);
        }
        Ok(self.action(
            &format!("pause-io-{node}-{}", index + 1),
            "aws:ebs:pause-volume-io",
            "Volumes",
            &target,
            &[("duration", format_iso8601(duration))],
        ))
    }
}

fn selection_mode(selection: Selection) -> String {
    match selection {
        Selection::All => "ALL".into(),
        Selection::Count(n) => format!("COUNT({n})"),
        Selection::Percent(p) => format!("PERCENT({})", format_number(p)),
    }
}

fn share_selection(share: f64) -> Selection {
    if share >= 1.0 {
        Selection::All
    } else {
        Selection::Percent((share * 100.0 * 1e6).round() / 1e6)
    }
}

/// A number without a trailing `.0`.
fn format_number(x: f64) -> String {
    let rounded = (x * 1e6).round() / 1e6;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

/// The template as JSON text, two-space indented, with a final newline.
pub fn to_json(template: &Template) -> String {
    let mut text = serde_json::to_string_pretty(template).expect("a template serialises");
    text.push('\n');
    text
}
