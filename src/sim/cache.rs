//! Caches described by their content: per content an LRU of keys (with expiry), lookups that
//! draw a key from the cache's Zipf popularity, cache-aside fills when the backing store
//! answers, single-flight coalescing of concurrent misses, and the counts a run reports.
//!
//! A content cache answers a lookup with a hit or a miss carrying a `CacheKey`; the caller
//! keeps the key on its frame while it calls the backing store, and fills it into the content
//! it missed in when the backing store answers OK. A failure or a timeout fills nothing — which
//! is what keeps a cold cache cold in a cache-miss storm. With single-flight, an attempt on the
//! backing store for a key already being fetched for the same content waits for that fetch
//! (the *leader*) instead, and shares its answer.
//!
//! Contents start warm (the `capacity` most popular keys, so a run begins in steady state; a
//! `cache-flush` fault at the start gives a cold start); a flush or a restart after a stop
//! empties the content the replica belongs to. Must not: draw from any stream but the cache's
//! own `CacheKey` stream, or iterate a hash map.

use std::collections::BTreeMap;

use lru::LruCache;
use serde::Serialize;

use super::engine::{Answer, Kernel};
use super::frames::{FrameRef, Frames, Parent};
use super::replicas::Replicas;
use crate::kernel::{Purpose, Stream, Zipf};
use crate::metrics::{Counted, Outcome};
use crate::model::{CacheContent, NodeId, Role, Sharing, Topology};

/// A key a caller missed, and the content (global index) it missed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct CacheKey {
    pub content: u32,
    pub key: u32,
}

impl CacheKey {
    /// No key: not on a content cache's miss path.
    pub const NONE: CacheKey = CacheKey {
        content: u32::MAX,
        key: u32::MAX,
    };

    pub fn is_some(self) -> bool {
        self.content != u32::MAX
    }
}

/// Lookups and fills of a content cache over some span of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    /// Lookups answered from the content.
    pub hits: u64,
    /// Lookups that sent the caller to the backing store.
    pub misses: u64,
    /// Keys put into a content after the backing store answered OK.
    pub fills: u64,
    /// Backing-store attempts that waited for another caller's fetch of the same key.
    pub coalesced: u64,
}

impl CacheCounts {
    /// hits / lookups; `None` without lookups.
    pub fn hit_ratio(&self) -> Option<f64> {
        let lookups = self.hits + self.misses;
        (lookups > 0).then(|| self.hits as f64 / lookups as f64)
    }

    fn add(&mut self, event: Count) {
        match event {
            Count::Hit => self.hits += 1,
            Count::Miss => self.misses += 1,
            Count::Fill => self.fills += 1,
            Count::Coalesced => self.coalesced += 1,
        }
    }
}

#[derive(Clone, Copy)]
enum Count {
    Hit,
    Miss,
    Fill,
    Coalesced,
}

/// What one content cache did in a run. Lookups are counted by the arrival of the lookup at the
/// cache (as node metrics are), fills and coalesced attempts by when they happen.
#[derive(Clone, Debug)]
pub struct CacheStats {
    pub node: NodeId,
    /// After the warm-up.
    pub total: CacheCounts,
    /// Per window (before, during, after); empty when the run has no windows.
    pub windows: Vec<CacheCounts>,
    pub step_ns: u64,
    /// Per step from time zero, warm-up included.
    pub series: Vec<CacheCounts>,
}

impl CacheStats {
    fn record(&mut self, now_ns: u64, counted: Counted, event: Count) {
        let index = (now_ns / self.step_ns) as usize;
        if self.series.len() <= index {
            self.series.resize(index + 1, CacheCounts::default());
        }
        self.series[index].add(event);
        if let Counted::InWindow(window) = counted {
            self.total.add(event);
            if let Some(counts) = self.windows.get_mut(window as usize) {
                counts.add(event);
            }
        }
    }
}

/// Bytes one LRU entry is taken to hold (key, expiry, list links, hash slot), for the memory
/// bound.
const ENTRY_BYTES: u64 = 64;

#[derive(Clone)]
struct Content {
    /// Key -> when it expires (`u64::MAX` without a TTL). Holds at most `capacity` entries.
    lru: LruCache<u32, u64>,
    /// Index into `Caches::list`.
    cache: u32,
}

/// A fetch of one key from the backing store, and the attempts waiting for its answer.
#[derive(Clone)]
struct Flight {
    leader: FrameRef,
    token: u32,
    waiters: Vec<(FrameRef, u32)>,
}

#[derive(Clone)]
struct NodeCache {
    spec: CacheContent,
    backing: NodeId,
    zipf: Zipf,
    stream: Stream,
    first_content: u32,
    stats: CacheStats,
}

/// The content caches of a topology. Empty (and never touched) for a model without them.
#[derive(Clone)]
pub(super) struct Caches {
    /// Per node, its index in `list` when it is a content cache.
    by_node: Vec<Option<u32>>,
    list: Vec<NodeCache>,
    contents: Vec<Content>,
    /// Keys being fetched by single-flight caches. A `BTreeMap`, though only looked up.
    flights: BTreeMap<CacheKey, Flight>,
    /// The memory the contents take when full.
    full_bytes: u64,
    /// Per frame slot: the generation of the frame and the key it missed, to fill when its
    /// backing store answers OK (`CacheKey::NONE` when none). Kept here, not in the frame, so
    /// frames (and the memory bound) do not grow for models without content caches. Only
    /// grows when there are content caches.
    fills: Vec<(u32, CacheKey)>,
    /// Per frame slot: the key a lookup just missed for the frame's attempt (generation,
    /// token, key), read when the miss reaches it. A side table, so answers and events do not
    /// grow either.
    missed: Vec<(u32, u32, CacheKey)>,
}

impl Caches {
    pub fn new(
        topology: &Topology,
        seed: u64,
        step_ns: u64,
        windows: usize,
        memory_limit: u64,
    ) -> Caches {
        let mut caches = Caches {
            by_node: vec![None; topology.nodes.len()],
            list: Vec::new(),
            contents: Vec::new(),
            flights: BTreeMap::new(),
            full_bytes: 0,
            fills: Vec::new(),
            missed: Vec::new(),
        };
        for (n, node) in topology.nodes.iter().enumerate() {
            let Role::Cache {
                content: Some(spec),
                backing,
                ..
            } = node.role
            else {
                continue;
            };
            let count = match spec.sharing {
                Sharing::Replica => node.zones.len() as u32 * node.slots_per_zone(),
                Sharing::Zone => node.zones.len() as u32,
                Sharing::Shared => 1,
            };
            let cache = caches.list.len() as u32;
            caches.by_node[n] = Some(cache);
            caches.list.push(NodeCache {
                spec,
                backing,
                zipf: Zipf::new(spec.keys, spec.zipf),
                stream: Stream::new(seed, node.stable_id, Purpose::CacheKey),
                first_content: caches.contents.len() as u32,
                stats: CacheStats {
                    node: NodeId(n as u32),
                    total: CacheCounts::default(),
                    windows: vec![CacheCounts::default(); windows],
                    step_ns,
                    series: Vec::new(),
                },
            });
            for _ in 0..count {
                caches.contents.push(Content {
                    lru: LruCache::unbounded(),
                    cache,
                });
            }
            caches.full_bytes += u64::from(count) * u64::from(spec.capacity) * ENTRY_BYTES;
        }
        // A content set the memory bound cannot hold is left empty: the first memory check
        // stops the run with the bound reached, before anything is allocated for it.
        if caches.full_bytes <= memory_limit {
            caches.warm_all();
        }
        caches
    }

    /// Fills every content with its `capacity` most popular keys, most popular most recent.
    /// With a TTL, expiries are spread over one TTL so they do not all fall at once.
    fn warm_all(&mut self) {
        for content in &mut self.contents {
            let spec = self.list[content.cache as usize].spec;
            for rank in (0..spec.capacity).rev() {
                let expires = spec.ttl_ns.map_or(u64::MAX, |ttl| {
                    let share = u128::from(ttl) * u128::from(rank + 1) / u128::from(spec.capacity);
                    share as u64
                });
                content.lru.put(rank, expires);
            }
        }
    }

    /// The counts of every content cache, in node order, the series closed at `end_ns`.
    pub fn finish(self, end_ns: u64) -> Vec<CacheStats> {
        self.list
            .into_iter()
            .map(|cache| {
                let mut stats = cache.stats;
                let steps = end_ns.div_ceil(stats.step_ns) as usize;
                if stats.series.len() < steps {
                    stats.series.resize(steps, CacheCounts::default());
                }
                stats
            })
            .collect()
    }
}

impl Caches {
    /// No content cache in the model: every hook has nothing to do.
    #[inline(always)]
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The key a frame missed and will fill, or `CacheKey::NONE`.
    #[inline]
    pub(super) fn fill_of(&self, at: FrameRef) -> CacheKey {
        match self.fills.get(at.index as usize) {
            Some(&(generation, key)) if generation == at.generation => key,
            _ => CacheKey::NONE,
        }
    }

    /// Sets the key a frame will fill; a no-op without content caches.
    #[inline(always)]
    pub(super) fn set_fill(&mut self, at: FrameRef, key: CacheKey) {
        if !self.list.is_empty() {
            self.set_fill_of(at, key);
        }
    }

    fn set_fill_of(&mut self, at: FrameRef, key: CacheKey) {
        let fills = &mut self.fills;
        let index = at.index as usize;
        if fills.len() <= index {
            fills.resize(index + 1, (u32::MAX, CacheKey::NONE));
        }
        fills[index] = (at.generation, key);
    }

    /// The key the lookup answering attempt `token` of frame `at` missed (`NONE` if none).
    pub(super) fn missed_key(&self, at: FrameRef, token: u32) -> CacheKey {
        match self.missed.get(at.index as usize) {
            Some(&(generation, t, key)) if generation == at.generation && t == token => key,
            _ => CacheKey::NONE,
        }
    }

    fn set_missed(&mut self, parent: Parent, key: CacheKey) {
        let Parent::Call { frame, token } = parent else {
            return;
        };
        let missed = &mut self.missed;
        let index = frame.index as usize;
        if missed.len() <= index {
            missed.resize(index + 1, (u32::MAX, 0, CacheKey::NONE));
        }
        missed[index] = (frame.generation, token, key);
    }

    /// A lookup at a content cache's replica: draws the key and answers a hit, or a miss that
    /// carries the key. `None` for a cache with a fixed hit ratio, or while a `hit-ratio`
    /// fault forces the replica's ratio (the content is then not consulted).
    #[inline]
    pub(super) fn content_lookup(
        &mut self,
        k: &Kernel,
        topology: &Topology,
        frames: &Frames,
        replicas: &Replicas,
        at: FrameRef,
        node: NodeId,
    ) -> Option<Answer> {
        let cache = self.by_node[node.index()]? as usize;
        let frame = frames.get(at)?;
        let (replica, counted, parent) = (frame.replica, frame.counted, frame.parent);
        if replicas.get(replica).hit_override.is_some() {
            return None;
        }
        let content = self.content_of(topology, replicas, node, cache, replica);
        let now = k.now.ns();
        let entry = &mut self.list[cache];
        let key = entry.zipf.sample(&mut entry.stream) - 1;
        let lru = &mut self.contents[content as usize].lru;
        let hit = match lru.get(&key) {
            Some(&expires) if expires > now => true,
            Some(_) => {
                lru.pop(&key);
                false
            }
            None => false,
        };
        let (count, fill) = if hit {
            (Count::Hit, CacheKey::NONE)
        } else {
            (Count::Miss, CacheKey { content, key })
        };
        entry.stats.record(now, counted, count);
        if !hit {
            self.set_missed(parent, fill);
        }
        Some(Answer {
            miss: !hit,
            ..Answer::ok(Outcome::Ok)
        })
    }

    /// The content a replica of a content cache looks keys up in (global index).
    fn content_of(
        &self,
        topology: &Topology,
        replicas: &Replicas,
        node: NodeId,
        cache: usize,
        replica: u32,
    ) -> u32 {
        let entry = &self.list[cache];
        let local = replica - replicas.of_node(node).start;
        let per_zone = topology.node(node).slots_per_zone();
        entry.first_content
            + match entry.spec.sharing {
                Sharing::Replica => local,
                Sharing::Zone => local / per_zone,
                Sharing::Shared => 0,
            }
    }

    /// A flush or a restart of a replica: empties its content. Returns false for a cache with
    /// a fixed hit ratio (which refills along its curve instead).
    pub(super) fn empty_content(
        &mut self,
        topology: &Topology,
        replicas: &Replicas,
        node: NodeId,
        replica: u32,
    ) -> bool {
        let Some(cache) = self.by_node[node.index()] else {
            return false;
        };
        let content = self.content_of(topology, replicas, node, cache as usize, replica);
        self.contents[content as usize].lru.clear();
        true
    }

    /// The backing store answered an attempt of a frame that missed a key: fills the key on
    /// OK. With single-flight, when this attempt led the fetch, returns the attempts that
    /// waited for it, for the flow to hand the answer to (those still waiting).
    pub(super) fn on_backing_answer(
        &mut self,
        k: &Kernel,
        at: FrameRef,
        token: u32,
        ok: bool,
    ) -> Option<Vec<(FrameRef, u32)>> {
        let fill = self.fill_of(at);
        if ok {
            self.set_fill(at, CacheKey::NONE);
            self.fill_key(k, fill);
        }
        let led = self
            .flights
            .get(&fill)
            .is_some_and(|f| f.leader == at && f.token == token);
        if !led {
            return None;
        }
        Some(self.flights.remove(&fill).expect("checked").waiters)
    }

    fn fill_key(&mut self, k: &Kernel, fill: CacheKey) {
        let now = k.now.ns();
        let counted = k.counted();
        let content = &mut self.contents[fill.content as usize];
        let entry = &mut self.list[content.cache as usize];
        let expires = entry
            .spec
            .ttl_ns
            .map_or(u64::MAX, |ttl| now.saturating_add(ttl));
        content.lru.put(fill.key, expires);
        if content.lru.len() > entry.spec.capacity as usize {
            content.lru.pop_lru();
        }
        entry.stats.record(now, counted, Count::Fill);
    }

    /// Before an attempt on a backing store: with single-flight, joins a live fetch of the same
    /// key (returns true: the attempt waits, its own timeout still running), or leads a new one.
    /// Most attempts are not on a content cache's miss path: that is decided inline.
    #[inline(always)]
    pub(super) fn join_flight(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        at: FrameRef,
        token: u32,
    ) -> bool {
        if self.list.is_empty() {
            return false;
        }
        let fill = self.fill_of(at);
        fill.is_some() && self.join_flight_of(k, frames, at, token, fill)
    }

    fn join_flight_of(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        at: FrameRef,
        token: u32,
        fill: CacheKey,
    ) -> bool {
        let Some(frame) = frames.get(at) else {
            return false;
        };
        let target = frame.target;
        let cache = self.contents[fill.content as usize].cache as usize;
        let entry = &self.list[cache];
        if !entry.spec.single_flight || entry.backing != target {
            return false;
        }
        let leader_live = self.flights.get(&fill).is_some_and(|f| {
            self.fill_of(f.leader) == fill
                && frames
                    .get(f.leader)
                    .is_some_and(|l| l.token == f.token && l.waiting)
        });
        match self.flights.get_mut(&fill) {
            Some(flight) if leader_live => {
                flight.waiters.push((at, token));
                let (now, counted) = (k.now.ns(), k.counted());
                let stats = &mut self.list[cache].stats;
                stats.record(now, counted, Count::Coalesced);
                true
            }
            // The leader is gone (its replica stopped): this attempt takes over its waiters.
            Some(flight) => {
                flight.leader = at;
                flight.token = token;
                false
            }
            None => {
                let flight = Flight {
                    leader: at,
                    token,
                    waiters: Vec::new(),
                };
                self.flights.insert(fill, flight);
                false
            }
        }
    }
}
