//! Jaeger JSON, as the query API (`/api/traces`) and the UI's "Download JSON" give it:
//! `{"data": [trace, ...]}`, each trace with `spans[]` (`traceID`, `spanID`, `operationName`,
//! `references` CHILD_OF / FOLLOWS_FROM, microsecond `startTime` / `duration`, `tags`,
//! `processID`) and `processes` (`serviceName`, `tags`). A streaming visitor walks the `data`
//! array, so one trace at a time is held; each element is a whole trace, handed on as
//! complete. A bare array of traces is read too.
//!
//! FOLLOWS_FROM is taken as the parent when there is no CHILD_OF: the work still hangs off
//! that span (an asynchronous child).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::TraceError;
use super::span::{Attrs, Kind, Span, SpanSink, hex_id};

#[derive(Deserialize)]
struct Trace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: BTreeMap<String, Process>,
}

#[derive(Deserialize)]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(rename = "operationName", default)]
    operation: String,
    #[serde(default)]
    references: Vec<Reference>,
    #[serde(rename = "startTime")]
    start_us: u64,
    #[serde(default)]
    duration: u64,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(rename = "processID", default)]
    process_id: String,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "refType")]
    ref_type: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Deserialize)]
struct Process {
    #[serde(rename = "serviceName")]
    service: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    key: String,
    #[serde(default)]
    value: serde_json::Value,
}

impl Tag {
    fn text(&self) -> String {
        match &self.value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }
}

/// Reads the document into `sink`, one trace at a time.
pub fn read(reader: impl Read, file: &str, sink: &mut impl SpanSink) -> Result<(), TraceError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    Document { sink }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|error| {
            TraceError::json(
                file,
                &error,
                "a Jaeger JSON document (`{\"data\": [trace, ...]}`)",
            )
        })
}

/// The top level: an object whose `data` is the traces (other keys skipped), or the array.
struct Document<'s, S> {
    sink: &'s mut S,
}

impl<'de, S: SpanSink> DeserializeSeed<'de> for Document<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: SpanSink> Visitor<'de> for Document<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a `data` array of traces")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "data" {
                map.next_value_seed(Traces {
                    sink: &mut *self.sink,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Traces { sink: self.sink }.visit_seq(seq)
    }
}

struct Traces<'s, S> {
    sink: &'s mut S,
}

impl<'de, S: SpanSink> DeserializeSeed<'de> for Traces<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: SpanSink> Visitor<'de> for Traces<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Jaeger traces")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(trace) = seq.next_element::<Trace>()? {
            emit(trace, self.sink).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

fn emit(trace: Trace, sink: &mut impl SpanSink) -> Result<(), String> {
    let mut last = None;
    for span in trace.spans {
        let process = trace.processes.get(&span.process_id).ok_or_else(|| {
            format!(
                "span {} names process `{}`, which the trace's `processes` lacks",
                span.span_id, span.process_id
            )
        })?;
        let span = convert(span, process, sink)?;
        last = Some(span.trace);
        sink.span(span);
    }
    if let Some(trace) = last {
        sink.trace_complete(trace);
    }
    Ok(())
}

fn convert(span: JaegerSpan, process: &Process, sink: &mut impl SpanSink) -> Result<Span, String> {
    let bad = |what: &str, text: &str| format!("expected a hex {what}, found `{text}`");
    let trace = hex_id(&span.trace_id).ok_or_else(|| bad("traceID", &span.trace_id))?;
    let id = hex_id(&span.span_id).ok_or_else(|| bad("spanID", &span.span_id))? as u64;
    let reference = span
        .references
        .iter()
        .find(|r| r.ref_type == "CHILD_OF")
        .or_else(|| {
            span.references
                .iter()
                .find(|r| r.ref_type == "FOLLOWS_FROM")
        });
    let parent = match reference {
        Some(r) => {
            Some(hex_id(&r.span_id).ok_or_else(|| bad("reference spanID", &r.span_id))? as u64)
        }
        None => None,
    };
    let names = sink.names();
    let mut attrs = Attrs::default();
    let (mut kind, mut error) = (Kind::Unspecified, false);
    for tag in process.tags.iter().chain(&span.tags) {
        let value = tag.text();
        match tag.key.as_str() {
            "span.kind" => kind = Kind::from_word(&value),
            "error" => error = value == "true",
            "otel.status_code" => error = value == "ERROR",
            key => attrs.set(names, key, &value),
        }
    }
    let start_ns = span.start_us.saturating_mul(1_000);
    Ok(Span {
        trace,
        id,
        parent,
        service: names.intern(&process.service),
        operation: names.intern(&span.operation),
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

    const DOC: &str = r#"{"data":[{"traceID":"00000000000000aa","spans":[
      {"traceID":"00000000000000aa","spanID":"0000000000000001","operationName":"GET /","references":[],
       "startTime":1000,"duration":50,"tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"error","type":"bool","value":true}],"processID":"p1"},
      {"traceID":"00000000000000aa","spanID":"0000000000000002","operationName":"SELECT","references":[{"refType":"CHILD_OF","traceID":"00000000000000aa","spanID":"0000000000000001"}],
       "startTime":1010,"duration":20,"tags":[{"key":"span.kind","value":"client"},{"key":"db.system","value":"postgresql"}],"processID":"p1"}],
      "processes":{"p1":{"serviceName":"api","tags":[{"key":"hostname","type":"string","value":"api-1"}]}}}],
      "total":0,"limit":0,"offset":0,"errors":null}"#;

    #[test]
    fn reads_traces_with_processes_references_and_tags() {
        let mut spans = Spans::default();
        read(DOC.as_bytes(), "j.json", &mut spans).unwrap();
        assert_eq!(spans.spans.len(), 2);
        assert_eq!(spans.complete, vec![0xaa]);
        let (root, child) = (&spans.spans[0], &spans.spans[1]);
        assert_eq!(
            (root.kind, root.error, root.start_ns, root.end_ns),
            (Kind::Server, true, 1_000_000, 1_050_000)
        );
        assert_eq!(child.parent, Some(1));
        assert_eq!(
            spans.names.get(child.attrs.db_system.unwrap()),
            "postgresql"
        );
        assert_eq!(spans.names.get(child.attrs.instance.unwrap()), "api-1");
        assert_eq!(spans.names.get(child.service), "api");
    }

    #[test]
    fn an_unknown_process_and_a_bad_id_are_errors_naming_them() {
        let error = read(
            DOC.replace("\"processID\":\"p1\"}]", "\"processID\":\"p9\"}]")
                .as_bytes(),
            "j.json",
            &mut Spans::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("process `p9`"), "{error}");
        let error = read(
            DOC.replacen("0000000000000002", "nothex", 1).as_bytes(),
            "j.json",
            &mut Spans::default(),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("j.json:") && text.contains("`nothex`"),
            "{text}"
        );
    }
}
