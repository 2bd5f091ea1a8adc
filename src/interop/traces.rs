//! Models from distributed traces: OTLP JSON, Jaeger and Zipkin v2 (issue 18).
