//! The one span shape every format is read into: ids as integers, times in nanoseconds since
//! the Unix epoch, names interned, and only the attributes the derivation reads. A format
//! module's whole job is to produce these; nothing downstream knows which format a span came
//! from.

use std::collections::HashMap;

/// An interned string: an index into `Names`. Ids follow first appearance in the input, so
/// they are deterministic; nothing written out is ordered by them (the model is written by
/// name).
pub type Name = u32;

/// The strings of the spans read so far: services, operations, instances, zones, peers.
/// Bounded by the number of distinct values, not the number of spans.
#[derive(Debug, Default)]
pub struct Names {
    strings: Vec<String>,
    index: HashMap<String, Name>,
}

impl Names {
    pub fn intern(&mut self, text: &str) -> Name {
        if let Some(&name) = self.index.get(text) {
            return name;
        }
        let name = self.strings.len() as Name;
        self.strings.push(text.to_string());
        self.index.insert(text.to_string(), name);
        name
    }

    pub fn get(&self, name: Name) -> &str {
        &self.strings[name as usize]
    }

    pub fn lookup(&self, text: &str) -> Option<Name> {
        self.index.get(text).copied()
    }
}

/// The span's role, as OTLP's `SpanKind` (Jaeger's `span.kind` tag and Zipkin's `kind` map
/// onto it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    /// From OTLP's integer (`SPAN_KIND_SERVER` = 2) or its name, or a Jaeger / Zipkin word.
    pub fn from_word(word: &str) -> Kind {
        match word.to_ascii_lowercase().trim_start_matches("span_kind_") {
            "internal" => Kind::Internal,
            "server" => Kind::Server,
            "client" => Kind::Client,
            "producer" => Kind::Producer,
            "consumer" => Kind::Consumer,
            _ => Kind::Unspecified,
        }
    }

    pub fn from_otlp(code: i64) -> Kind {
        match code {
            1 => Kind::Internal,
            2 => Kind::Server,
            3 => Kind::Client,
            4 => Kind::Producer,
            5 => Kind::Consumer,
            _ => Kind::Unspecified,
        }
    }

    /// A span that stands for a call out of its service.
    pub fn is_outgoing(self) -> bool {
        matches!(self, Kind::Client | Kind::Producer)
    }

    /// A span that stands for work received from another service.
    pub fn is_incoming(self) -> bool {
        matches!(self, Kind::Server | Kind::Consumer)
    }
}

/// One span. Invariant: `start_ns <= end_ns` (a reader clamps a negative duration to zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The trace id's low 128 bits (a 64-bit Zipkin or Jaeger id is zero-extended).
    pub trace: u128,
    pub id: u64,
    /// The CHILD_OF (or FOLLOWS_FROM) parent; `None` for a root.
    pub parent: Option<u64>,
    pub service: Name,
    pub operation: Name,
    pub kind: Kind,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Status ERROR (OTLP), an `error` tag (Jaeger, Zipkin) or `otel.status_code = ERROR`.
    pub error: bool,
    pub attrs: Attrs,
}

/// The attributes the derivation reads, from the span and its resource (or Jaeger process).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    /// `service.instance.id` (else `host.name`, Jaeger's `hostname`).
    pub instance: Option<Name>,
    /// `cloud.availability_zone`.
    pub zone: Option<Name>,
    /// `k8s.node.name`, for a node -> zone mapping.
    pub k8s_node: Option<Name>,
    /// `peer.service`.
    pub peer_service: Option<Name>,
    /// `server.address` (else the older `net.peer.name`).
    pub server_address: Option<Name>,
    /// `db.system` (or `db.system.name`).
    pub db_system: Option<Name>,
    /// `messaging.system`.
    pub messaging_system: Option<Name>,
    /// `messaging.destination.name`.
    pub destination: Option<Name>,
}

impl Attrs {
    /// Records one attribute if it is one the derivation reads. Resource attributes are set
    /// first and span attributes after, so a span's own value wins.
    pub fn set(&mut self, names: &mut Names, key: &str, value: &str) {
        let slot = match key {
            "service.instance.id" => &mut self.instance,
            "host.name" | "hostname" if self.instance.is_none() => &mut self.instance,
            "cloud.availability_zone" => &mut self.zone,
            "k8s.node.name" => &mut self.k8s_node,
            "peer.service" => &mut self.peer_service,
            "server.address" => &mut self.server_address,
            "net.peer.name" if self.server_address.is_none() => &mut self.server_address,
            "db.system" | "db.system.name" => &mut self.db_system,
            "messaging.system" => &mut self.messaging_system,
            "messaging.destination.name" | "messaging.destination" => &mut self.destination,
            _ => return,
        };
        *slot = Some(names.intern(value));
    }
}

/// Parses a hex id of up to 32 digits (OTLP JSON, Jaeger and Zipkin all write hex).
pub fn hex_id(text: &str) -> Option<u128> {
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

/// Where spans go once read: the assembler, or a test's vector.
pub trait SpanSink {
    fn names(&mut self) -> &mut Names;
    fn span(&mut self, span: Span);
    /// All spans of one trace have been handed over (Jaeger's `data[]` elements are whole
    /// traces), so the trace can be analysed at once instead of lingering.
    fn trace_complete(&mut self, _trace: u128) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_parse_both_widths_and_reject_junk() {
        assert_eq!(hex_id("00000000000000ff"), Some(255));
        assert_eq!(
            hex_id("5b8aa5a2d2c872e8321cf37308d69df2"),
            Some(0x5b8aa5a2d2c872e8321cf37308d69df2)
        );
        assert_eq!(hex_id(""), None);
        assert_eq!(hex_id("xyz"), None);
        assert_eq!(hex_id(&"f".repeat(33)), None);
    }

    #[test]
    fn kinds_read_from_every_spelling() {
        assert_eq!(Kind::from_word("SPAN_KIND_SERVER"), Kind::Server);
        assert_eq!(Kind::from_word("client"), Kind::Client);
        assert_eq!(Kind::from_word("CONSUMER"), Kind::Consumer);
        assert_eq!(Kind::from_otlp(3), Kind::Client);
        assert_eq!(Kind::from_otlp(9), Kind::Unspecified);
    }

    #[test]
    fn a_span_attribute_overrides_its_resource_and_instance_falls_back_to_the_host() {
        let mut names = Names::default();
        let mut attrs = Attrs::default();
        attrs.set(&mut names, "host.name", "ip-10-0-0-1");
        attrs.set(&mut names, "server.address", "a");
        attrs.set(&mut names, "server.address", "b");
        attrs.set(&mut names, "unrelated", "x");
        assert_eq!(names.get(attrs.instance.unwrap()), "ip-10-0-0-1");
        assert_eq!(names.get(attrs.server_address.unwrap()), "b");
        assert_eq!(names.lookup("x"), None);
    }
}
