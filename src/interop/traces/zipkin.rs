//! Zipkin v2 JSON: a list of spans (`traceId`, `id`, `parentId`, `name`, `kind`, microsecond
//! `timestamp` / `duration`, `localEndpoint.serviceName`, `remoteEndpoint.serviceName`,
//! `tags`, `shared`), as `/api/v2/trace/{id}` and the exporters give it, or a list of such
//! lists (`/api/v2/traces`). A streaming visitor walks the top-level array, so one span (or
//! one trace of the list of lists) is held at a time.
//!
//! Zipkin's own instrumentation may share one span id between the client and the server side
//! (`shared: true` on the server's half); the server half gets an id of its own with the
//! client half as its parent, so the two are a call and its answer as in OTLP.
//! `remoteEndpoint.serviceName` stands for `peer.service` when the tags lack it. OpenTelemetry's
//! Zipkin exporter writes resource attributes (`service.instance.id`,
//! `cloud.availability_zone`) as tags, which is where zones and instances come from.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::TraceError;
use super::span::{Attrs, Kind, Span, SpanSink, hex_id};

#[derive(Deserialize)]
struct ZipkinSpan {
    #[serde(rename = "traceId")]
    trace_id: String,
    id: String,
    #[serde(rename = "parentId", default)]
    parent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    timestamp: u64,
    #[serde(default)]
    duration: u64,
    #[serde(rename = "localEndpoint", default)]
    local: Option<Endpoint>,
    #[serde(rename = "remoteEndpoint", default)]
    remote: Option<Endpoint>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(rename = "serviceName", default)]
    service: Option<String>,
}

/// Reads the list into `sink`.
pub fn read(reader: impl Read, file: &str, sink: &mut impl SpanSink) -> Result<(), TraceError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    List { sink }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|error| TraceError::json(file, &error, "a Zipkin v2 list of spans"))
}

struct List<'s, S> {
    sink: &'s mut S,
}

impl<'de, S: SpanSink> DeserializeSeed<'de> for List<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: SpanSink> Visitor<'de> for List<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Zipkin v2 spans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Element {
                sink: &mut *self.sink,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One element of the top level: a span, or a whole trace's list of spans.
struct Element<'s, S> {
    sink: &'s mut S,
}

impl<'de, S: SpanSink> DeserializeSeed<'de> for Element<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: SpanSink> Visitor<'de> for Element<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Zipkin v2 span or a list of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let span = ZipkinSpan::deserialize(MapAccessDeserializer::new(map))?;
        let span = convert(span, self.sink).map_err(de::Error::custom)?;
        self.sink.span(span);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut last = None;
        while let Some(span) = seq.next_element::<ZipkinSpan>()? {
            let span = convert(span, self.sink).map_err(de::Error::custom)?;
            last = Some(span.trace);
            self.sink.span(span);
        }
        if let Some(trace) = last {
            self.sink.trace_complete(trace);
        }
        Ok(())
    }
}

/// The server half of a shared span: its id is the client's, turned by a fixed odd constant
/// so the two differ and the same input always gives the same id.
const SHARED_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

fn convert(span: ZipkinSpan, sink: &mut impl SpanSink) -> Result<Span, String> {
    let bad = |what: &str, text: &str| format!("expected a hex {what}, found `{text}`");
    let trace = hex_id(&span.trace_id).ok_or_else(|| bad("traceId", &span.trace_id))?;
    let id = hex_id(&span.id).ok_or_else(|| bad("id", &span.id))? as u64;
    let mut parent = match span.parent_id.as_deref() {
        None | Some("") => None,
        Some(text) => Some(hex_id(text).ok_or_else(|| bad("parentId", text))? as u64),
    };
    let kind = span
        .kind
        .as_deref()
        .map_or(Kind::Unspecified, Kind::from_word);
    let id = if span.shared && kind == Kind::Server {
        parent = Some(id);
        id ^ SHARED_SALT
    } else {
        id
    };
    let names = sink.names();
    let mut attrs = Attrs::default();
    let mut error = false;
    for (key, value) in &span.tags {
        match key.as_str() {
            "error" => error = true,
            "otel.status_code" => error |= value == "ERROR",
            key => attrs.set(names, key, value),
        }
    }
    if attrs.peer_service.is_none()
        && kind.is_outgoing()
        && let Some(remote) = span.remote.as_ref().and_then(|r| r.service.as_deref())
    {
        attrs.peer_service = Some(names.intern(remote));
    }
    let service = span
        .local
        .as_ref()
        .and_then(|l| l.service.as_deref())
        .or(span.tags.get("service.name").map(String::as_str));
    let start_ns = span.timestamp.saturating_mul(1_000);
    Ok(Span {
        trace,
        id,
        parent,
        service: names.intern(service.unwrap_or("unknown_service")),
        operation: names.intern(span.name.as_deref().unwrap_or("")),
        kind,
        start_ns,
        end_ns: start_ns.saturating_add(span.duration.saturating_mul(1_000)),
        error,
        attrs,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::Spans;
    use super::*;

    const SPANS: &str = r#"[
      {"traceId":"00000000000000aa","id":"0000000000000001","name":"get /","kind":"SERVER","timestamp":10,"duration":100,
       "localEndpoint":{"serviceName":"api"},"tags":{"cloud.availability_zone":"az-b","error":""}},
      {"traceId":"00000000000000aa","id":"0000000000000002","parentId":"0000000000000001","name":"charge","kind":"CLIENT",
       "timestamp":20,"duration":30,"localEndpoint":{"serviceName":"api"},"remoteEndpoint":{"serviceName":"stripe"}},
      {"traceId":"00000000000000aa","id":"0000000000000002","parentId":"0000000000000001","name":"charge","kind":"SERVER",
       "timestamp":21,"duration":28,"localEndpoint":{"serviceName":"pay"},"shared":true}]"#;

    #[test]
    fn reads_spans_remote_endpoints_and_shared_halves() {
        let mut spans = Spans::default();
        read(SPANS.as_bytes(), "z.json", &mut spans).unwrap();
        let [root, client, server] = &spans.spans[..] else {
            panic!("three spans")
        };
        assert!(root.error);
        assert_eq!(spans.names.get(root.attrs.zone.unwrap()), "az-b");
        assert_eq!(
            spans.names.get(client.attrs.peer_service.unwrap()),
            "stripe"
        );
        assert_eq!(server.parent, Some(client.id));
        assert_ne!(server.id, client.id);
        assert_eq!((client.start_ns, client.end_ns), (20_000, 50_000));
    }

    #[test]
    fn reads_a_list_of_traces_and_rejects_an_object() {
        let mut spans = Spans::default();
        read(
            format!("[{SPANS}, {SPANS}]").as_bytes(),
            "z.json",
            &mut spans,
        )
        .unwrap();
        assert_eq!((spans.spans.len(), spans.complete.len()), (6, 2));
        let error = read(&b"{\"a\": 1}"[..], "z.json", &mut Spans::default()).unwrap_err();
        assert!(error.to_string().starts_with("z.json:1:"), "{error}");
    }
}
