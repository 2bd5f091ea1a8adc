//! The FIS actions the importer knows, with the fault each becomes. The list is the source of
//! docs/fis.md's mapping table: a test keeps the two equal, so the documentation names exactly
//! the actions the code maps.

/// How faithfully an action is reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fidelity {
    /// The simulator has the same fault.
    Mapped,
    /// The nearest fault, with the difference stated in `note`.
    Approximated,
    /// Only timing (a wait) or part of a zone outage; nothing of its own.
    Timing,
}

impl Fidelity {
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Mapped => "mapped",
            Fidelity::Approximated => "approximated",
            Fidelity::Timing => "timing",
        }
    }
}

/// One known action id.
#[derive(Clone, Copy, Debug)]
pub struct KnownAction {
    pub id: &'static str,
    /// The scenario fault kind(s) it becomes.
    pub fault: &'static str,
    pub fidelity: Fidelity,
}

/// Every action id `import fis` maps, in the order of docs/fis.md's table.
pub const KNOWN_ACTIONS: &[KnownAction] = &[
    KnownAction {
        id: "aws:ec2:stop-instances",
        fault: "crash (restart_after = startInstancesAfterDuration); zone-outage with the zone's other power actions",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:ec2:terminate-instances",
        fault: "crash without restart",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:ec2:asg-insufficient-instance-capacity-error",
        fault: "a zone outage's recovery phase",
        fidelity: Fidelity::Timing,
    },
    KnownAction {
        id: "aws:ec2:api-insufficient-instance-capacity-error",
        fault: "a zone outage's recovery phase",
        fidelity: Fidelity::Timing,
    },
    KnownAction {
        id: "aws:network:disrupt-connectivity",
        fault: "zone-partition (scope all / availability-zone)",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:rds:failover-db-cluster",
        fault: "crash of the primary zone's replicas (the database fails over)",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:rds:reboot-db-instances",
        fault: "crash for 1m; with forceFailover, as failover-db-cluster",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:elasticache:replicationgroup-interrupt-az-power",
        fault: "crash of the cache in the zone for the duration",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:elasticache:interrupt-cache-cluster-az-power",
        fault: "crash of the cache in the zone for the duration",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:ebs:pause-volume-io",
        fault: "capacity 0 (work waits); in a zone outage, its recovery phase",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:ecs:stop-task",
        fault: "crash, restart after 1m (the service scheduler's replacement)",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:ecs:task-network-latency",
        fault: "latency on the node's answers",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:eks:pod-delete",
        fault: "crash, restart after 30s (the ReplicaSet's replacement)",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:eks:pod-network-latency",
        fault: "latency on the node's answers",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:eks:pod-network-packet-loss",
        fault: "blackhole, share = lossPercent",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:fis:inject-api-internal-error",
        fault: "errors on the calls to the external with that `aws.service`",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:fis:inject-api-throttle-error",
        fault: "errors on the calls to the external with that `aws.service`",
        fidelity: Fidelity::Approximated,
    },
    KnownAction {
        id: "aws:fis:inject-api-unavailable-error",
        fault: "errors on the calls to the external with that `aws.service`",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:arc:start-zonal-autoshift",
        fault: "zonal-shift",
        fidelity: Fidelity::Mapped,
    },
    KnownAction {
        id: "aws:fis:wait",
        fault: "none: a pause in the sequence",
        fidelity: Fidelity::Timing,
    },
];

/// The entry of a known action id.
pub fn known(id: &str) -> Option<&'static KnownAction> {
    KNOWN_ACTIONS.iter().find(|a| a.id == id)
}

/// The closest known action id to an unknown one, for "did you mean".
pub fn closest(id: &str) -> Option<&'static str> {
    KNOWN_ACTIONS
        .iter()
        .map(|a| (strsim::jaro_winkler(id, a.id), a.id))
        .filter(|(score, _)| *score > 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/fis.md's mapping table lists exactly the known actions, in order, with the same
    /// fidelity.
    #[test]
    fn the_documented_mapping_table_is_the_known_action_list() {
        let docs = include_str!("../../../docs/fis.md");
        let table = docs
            .split("## Mapping table")
            .nth(1)
            .expect("a mapping table section");
        let table = table.split("\n## ").next().unwrap_or(table);
        let rows: Vec<(&str, &str)> = table
            .lines()
            .filter(|l| l.starts_with("| `aws:"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`'), cells[3])
            })
            .collect();
        let known: Vec<(&str, &str)> = KNOWN_ACTIONS
            .iter()
            .map(|a| (a.id, a.fidelity.as_str()))
            .collect();
        assert_eq!(rows, known);
    }

    #[test]
    fn a_close_unknown_id_gets_a_suggestion() {
        assert_eq!(
            closest("aws:ec2:stop-instance"),
            Some("aws:ec2:stop-instances")
        );
        assert_eq!(
            known("aws:fis:wait").map(|a| a.fidelity),
            Some(Fidelity::Timing)
        );
        assert!(known("aws:ssm:send-command").is_none());
    }
}
