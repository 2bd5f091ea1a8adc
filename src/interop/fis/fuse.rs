//! Recognises a zone's power interruption among a template's pieces, as FIS's AZ Power
//! Interruption scenario writes it: every service placed in the zone has its EC2 instances
//! stopped there, every cache there has its power cut in the zone, and every database whose
//! primary is there is failed over. That is one `zone-outage` of the simulator (which stops
//! everything in the zone, and fails the databases over by their own `failover`). The
//! zone's subnets cut off during it add nothing; the insufficient-capacity errors and paused
//! volumes that outlast the power cut are its recovery phase: replicas return one by one.

use crate::interop::draft::{DraftEntry, exact_duration};
use crate::model::{NodeKind, Selection, Topology, ZoneId};

use super::import::{Piece, Placed, Timed, placed_in, table};
use super::targets::primary;

/// A recognised zone outage. Invariant: `pieces` index the placed pieces it took, in order.
#[derive(Clone, Debug)]
pub(super) struct Outage {
    pub zone: ZoneId,
    pub pieces: Vec<usize>,
    pub start_ns: u64,
    /// `None`: the instances are never restarted.
    pub end_ns: Option<u64>,
    pub recovery_ns: Option<u64>,
}

/// Finds the zone outages among `placed` (zone by zone) and says what it found in `notes`.
pub(super) fn fuse(
    topology: &Topology,
    timed: &[Timed<'_>],
    placed: &mut [Placed],
    notes: &mut Vec<String>,
) -> Vec<Outage> {
    let mut outages = Vec::new();
    for zone in (0..topology.zones.len()).map(|i| ZoneId(i as u16)) {
        let stops: Vec<usize> = (0..placed.len())
            .filter(|&i| stops_zone(&placed[i].piece, zone))
            .collect();
        if stops.is_empty() {
            continue;
        }
        match power_pieces(topology, placed, zone) {
            Ok(power) => {
                let outage = outage(timed, placed, zone, &stops, &power);
                notes.push(format!(
                    "zone {}: the template stops everything in it, imported as one zone-outage ({} actions)",
                    topology.zones[zone.index()],
                    outage.pieces.len()
                ));
                outages.push(outage);
            }
            Err(missing) => notes.push(format!(
                "zone {}: not a zone outage ({missing}); its actions are imported one by one",
                topology.zones[zone.index()]
            )),
        }
    }
    outages
}

fn stops_zone(piece: &Piece, zone: ZoneId) -> bool {
    matches!(piece, Piece::Stop { hit, selection: Selection::All, .. } if hit.zone == Some(zone))
}

/// The cache and database pieces that cut the zone's power, or what is missing.
fn power_pieces(
    topology: &Topology,
    placed: &[Placed],
    zone: ZoneId,
) -> Result<Vec<usize>, String> {
    let mut power = Vec::new();
    for service in placed_in(topology, zone, NodeKind::Service) {
        let stopped = placed.iter().any(|p| matches!(&p.piece, Piece::Stop { hit, selection: Selection::All, .. } if hit.node == service && hit.zone == Some(zone)));
        if !stopped {
            return Err(format!(
                "service `{}` there is not stopped",
                topology.node(service).name
            ));
        }
    }
    for cache in placed_in(topology, zone, NodeKind::Cache) {
        let cut = (0..placed.len()).find(|&i| {
            matches!(&placed[i].piece, Piece::CachePower { hit } | Piece::Stop { hit, selection: Selection::All, .. } if hit.node == cache && hit.zone == Some(zone))
        });
        power.push(cut.ok_or_else(|| {
            format!(
                "cache `{}` there keeps its power",
                topology.node(cache).name
            )
        })?);
    }
    for database in placed_in(topology, zone, NodeKind::Database)
        .into_iter()
        .filter(|&d| primary(topology, d) == Some(zone))
    {
        let failed = (0..placed.len())
            .find(|&i| matches!(placed[i].piece, Piece::Failover { node } if node == database));
        power.push(failed.ok_or_else(|| {
            format!(
                "database `{}`, whose primary is there, is not failed over",
                topology.node(database).name
            )
        })?);
    }
    Ok(power)
}

/// The outage: from the first stop to the last restart, taking the zone's other pieces that
/// act within it, and the capacity errors and paused volumes after it as the recovery.
fn outage(
    timed: &[Timed<'_>],
    placed: &[Placed],
    zone: ZoneId,
    stops: &[usize],
    power: &[usize],
) -> Outage {
    let start_ns = stops
        .iter()
        .map(|&i| timed[placed[i].action].start_ns)
        .min()
        .expect("at least one stop");
    let restarts: Option<Vec<u64>> = stops
        .iter()
        .map(|&i| match placed[i].piece {
            Piece::Stop { restart_ns, .. } => {
                restart_ns.map(|r| timed[placed[i].action].start_ns + r)
            }
            _ => None,
        })
        .collect();
    let end_ns = restarts.map(|r| r.into_iter().max().unwrap_or(start_ns));
    let mut pieces: Vec<usize> = stops.iter().chain(power).copied().collect();
    let mut recovery_end = end_ns.unwrap_or(0);
    for (index, item) in placed.iter().enumerate() {
        let action = &timed[item.action];
        let within = end_ns.is_none_or(|end| action.start_ns >= start_ns && action.end_ns() <= end);
        let taken = match &item.piece {
            Piece::Disrupt { zones } => zones.as_slice() == [zone] && within,
            Piece::Capacity { zones } => zones.as_slice() == [zone],
            Piece::Volumes { hit, .. } => hit.zone == Some(zone),
            Piece::CachePower { hit } => hit.zone == Some(zone) && within,
            _ => false,
        };
        if taken && !pieces.contains(&index) {
            pieces.push(index);
            if matches!(item.piece, Piece::Capacity { .. } | Piece::Volumes { .. }) {
                recovery_end = recovery_end.max(action.end_ns());
            }
        }
    }
    pieces.sort_unstable();
    let recovery_ns = end_ns.and_then(|end| (recovery_end > end).then(|| recovery_end - end));
    Outage {
        zone,
        pieces,
        start_ns,
        end_ns,
        recovery_ns,
    }
}

impl Outage {
    /// The `[[fault]]` table, its origin naming every action it took.
    pub(super) fn entry(
        &self,
        topology: &Topology,
        timed: &[Timed<'_>],
        placed: &[Placed],
        start_ns: u64,
    ) -> DraftEntry {
        let mut keys = table("zone-outage");
        keys.insert(
            "zone".into(),
            topology.zones[self.zone.index()].clone().into(),
        );
        keys.insert(
            "start".into(),
            exact_duration(start_ns + self.start_ns).into(),
        );
        if let Some(end) = self.end_ns {
            keys.insert(
                "duration".into(),
                exact_duration(end - self.start_ns).into(),
            );
        }
        if let Some(recovery) = self.recovery_ns {
            keys.insert("recovery".into(), exact_duration(recovery).into());
        }
        let mut origin = vec![format!(
            "zone {} power interruption, from these actions together:",
            topology.zones[self.zone.index()]
        )];
        for &index in &self.pieces {
            let item = &placed[index];
            let role = match item.piece {
                Piece::Stop { .. } => "the zone's instances stop, restarting at the outage's end",
                Piece::CachePower { .. } => "the cache loses power in the zone",
                Piece::Failover { .. } => {
                    "the database fails over (after its `failover` time, as the zone outage makes it)"
                }
                Piece::Disrupt { .. } => {
                    "the zone's subnets are cut off (nothing is left in the zone to reach)"
                }
                Piece::Capacity { .. } => "no instances can be launched there: recovery",
                Piece::Volumes { .. } => "volumes paused after power returns: recovery",
                Piece::Fault(_) => "",
            };
            let action = &timed[item.action];
            origin.push(format!(
                "- {} [{}, at +{}]: {role}",
                item.origin,
                exact_duration(action.duration_ns),
                exact_duration(action.start_ns)
            ));
        }
        DraftEntry { origin, keys }
    }
}
