//! OTLP JSON: what the OpenTelemetry Collector's file exporter writes — one
//! `ExportTraceServiceRequest` object per line — or a single such document (pretty-printed or
//! not). Both are read by one `serde_json::StreamDeserializer` over the reader, so memory is
//! one request at a time whatever the file's size.
//!
//! Per the OTLP JSON mapping: ids are hex strings, 64-bit integers (the timestamps) are decimal
//! strings (numbers are accepted too), enums (`kind`, `status.code`) integers (their names are
//! accepted too), keys lowerCamelCase (protobuf's snake_case names are accepted as aliases).

use std::io::Read;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::TraceError;
use super::span::{Attrs, Kind, Names, Span, SpanSink, hex_id};

#[derive(Deserialize)]
struct Request {
    #[serde(default, alias = "resource_spans")]
    #[serde(rename = "resourceSpans")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
struct ResourceSpans {
    #[serde(default)]
    resource: Resource,
    #[serde(default, rename = "scopeSpans", alias = "scope_spans")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize, Default)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
struct OtlpSpan {
    #[serde(rename = "traceId", alias = "trace_id", deserialize_with = "hex128")]
    trace_id: u128,
    #[serde(rename = "spanId", alias = "span_id", deserialize_with = "hex128")]
    span_id: u128,
    #[serde(
        default,
        rename = "parentSpanId",
        alias = "parent_span_id",
        deserialize_with = "parent_hex"
    )]
    parent_span_id: Option<u128>,
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "kind")]
    kind: Option<Kind>,
    #[serde(
        rename = "startTimeUnixNano",
        alias = "start_time_unix_nano",
        deserialize_with = "u64_text"
    )]
    start: u64,
    #[serde(
        rename = "endTimeUnixNano",
        alias = "end_time_unix_nano",
        deserialize_with = "u64_text"
    )]
    end: u64,
    #[serde(default)]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Status,
}

#[derive(Deserialize, Default)]
struct Status {
    #[serde(default, deserialize_with = "status_code")]
    code: bool,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: AnyValue,
}

/// Only scalar values matter here; arrays and maps are skipped.
#[derive(Deserialize, Default)]
struct AnyValue {
    #[serde(rename = "stringValue", alias = "string_value")]
    string: Option<String>,
    #[serde(
        rename = "intValue",
        alias = "int_value",
        default,
        deserialize_with = "opt_text"
    )]
    int: Option<String>,
    #[serde(rename = "boolValue", alias = "bool_value")]
    boolean: Option<bool>,
}

impl AnyValue {
    fn text(&self) -> Option<String> {
        self.string
            .clone()
            .or_else(|| self.int.clone())
            .or_else(|| self.boolean.map(|b| b.to_string()))
    }
}

/// Reads every request of the stream into `sink`. `file` names the input in errors.
pub fn read(reader: impl Read, file: &str, sink: &mut impl SpanSink) -> Result<(), TraceError> {
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Request>();
    for request in stream {
        let request = request
            .map_err(|error| TraceError::json(file, &error, "an OTLP ExportTraceServiceRequest"))?;
        for resource_spans in request.resource_spans {
            emit(resource_spans, sink);
        }
    }
    Ok(())
}

fn emit(resource_spans: ResourceSpans, sink: &mut impl SpanSink) {
    let names = sink.names();
    let mut base = Attrs::default();
    let mut service = None;
    for kv in &resource_spans.resource.attributes {
        if let Some(value) = kv.value.text() {
            if kv.key == "service.name" {
                service = Some(names.intern(&value));
            }
            base.set(names, &kv.key, &value);
        }
    }
    let service = service.unwrap_or_else(|| names.intern("unknown_service"));
    for scope in resource_spans.scope_spans {
        for span in scope.spans {
            let span = convert(span, service, &base, sink.names());
            sink.span(span);
        }
    }
}

fn convert(span: OtlpSpan, service: u32, base: &Attrs, names: &mut Names) -> Span {
    let mut attrs = base.clone();
    for kv in &span.attributes {
        if let Some(value) = kv.value.text() {
            attrs.set(names, &kv.key, &value);
        }
    }
    Span {
        trace: span.trace_id,
        id: span.span_id as u64,
        parent: span.parent_span_id.map(|id| id as u64),
        service,
        operation: names.intern(&span.name),
        kind: span.kind.unwrap_or(Kind::Unspecified),
        start_ns: span.start,
        end_ns: span.end.max(span.start),
        error: span.status.code,
        attrs,
    }
}

fn hex128<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    let text = String::deserialize(d)?;
    hex_id(&text).ok_or_else(|| {
        de::Error::custom(format!(
            "expected a hex id of up to 32 digits, found `{text}`"
        ))
    })
}

/// An empty `parentSpanId` is a root, as the Collector writes it.
fn parent_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u128>, D::Error> {
    let text = String::deserialize(d)?;
    if text.is_empty() {
        return Ok(None);
    }
    hex_id(&text)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("expected a hex span id, found `{text}`")))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Signed(i64),
    Text(String),
}

fn u64_text<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => Ok(n),
        NumberOrText::Signed(n) => Err(de::Error::custom(format!(
            "expected nanoseconds since the epoch, found {n}"
        ))),
        NumberOrText::Text(text) => text.parse().map_err(|_| {
            de::Error::custom(format!(
                "expected nanoseconds since the epoch as a decimal string, found `{text}`"
            ))
        }),
    }
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Some(match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => n.to_string(),
        NumberOrText::Signed(n) => n.to_string(),
        NumberOrText::Text(text) => text,
    }))
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Kind>, D::Error> {
    Ok(Some(match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => Kind::from_otlp(n as i64),
        NumberOrText::Signed(n) => Kind::from_otlp(n),
        NumberOrText::Text(text) => Kind::from_word(&text),
    }))
}

/// `STATUS_CODE_ERROR` = 2 is an error; unset (0) and ok (1) are not.
fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => n == 2,
        NumberOrText::Signed(n) => n == 2,
        NumberOrText::Text(text) => text.eq_ignore_ascii_case("STATUS_CODE_ERROR") || text == "2",
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::Spans;
    use super::*;

    const LINE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},{"key":"cloud.availability_zone","value":{"stringValue":"az-a"}}]},"scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5b8aa5a2d2c872e8321cf37308d69df2","spanId":"051581bf3cb55c13","parentSpanId":"","name":"GET /","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"3000","attributes":[{"key":"http.route","value":{"stringValue":"/"}},{"key":"n","value":{"intValue":"3"}},{"key":"a","value":{"arrayValue":{"values":[]}}}],"status":{"code":2}}]}]}]}"#;

    #[test]
    fn reads_one_request_per_line_and_a_pretty_document_alike() {
        let mut spans = Spans::default();
        let two_lines = format!("{LINE}\n{LINE}\n");
        read(two_lines.as_bytes(), "t.jsonl", &mut spans).unwrap();
        assert_eq!(spans.spans.len(), 2);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(LINE).unwrap())
                .unwrap();
        read(pretty.as_bytes(), "t.json", &mut spans).unwrap();
        let span = &spans.spans[2];
        assert_eq!(span.trace, 0x5b8aa5a2d2c872e8321cf37308d69df2);
        assert_eq!(span.id, 0x051581bf3cb55c13);
        assert_eq!(span.parent, None);
        assert_eq!(
            (span.kind, span.start_ns, span.end_ns, span.error),
            (Kind::Server, 1000, 3000, true)
        );
        assert_eq!(spans.names.get(span.service), "api");
        assert_eq!(spans.names.get(span.attrs.zone.unwrap()), "az-a");
    }

    #[test]
    fn a_bad_id_is_an_error_with_its_line_and_column() {
        let broken = format!("{LINE}\n{}", LINE.replace("051581bf3cb55c13", "zz"));
        let error = read(broken.as_bytes(), "t.jsonl", &mut Spans::default()).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("t.jsonl:2:"), "{text}");
        assert!(
            text.contains("expected a hex id") && text.contains("`zz`"),
            "{text}"
        );
    }

    #[test]
    fn a_truncated_file_is_an_error_not_a_panic() {
        let error = read(
            &LINE.as_bytes()[..LINE.len() - 9],
            "t.jsonl",
            &mut Spans::default(),
        )
        .unwrap_err();
        assert!(error.to_string().starts_with("t.jsonl:1:"), "{error}");
    }
}
