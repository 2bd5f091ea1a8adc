//! The kernel's own costs: the event queue under a steady number of pending events (the
//! classic "hold" model) and random draws.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use blastradius::kernel::{Dist, EventQueue, Purpose, SimTime, Stream};

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue_hold");
    const OPS: u64 = 100_000;
    group.throughput(Throughput::Elements(OPS));
    for pending in [2usize, 1_000, 16_000] {
        group.bench_function(format!("pending_{pending}"), |b| {
            b.iter_batched(
                || {
                    let mut stream = Stream::new(1, 1, Purpose::Service);
                    let mut queue = EventQueue::new();
                    for i in 0..pending {
                        queue.schedule(SimTime(stream.below(1_000_000)), i as u32);
                    }
                    (queue, stream)
                },
                |(mut queue, mut stream)| {
                    for _ in 0..OPS {
                        let (time, event) = queue.pop().expect("pending events");
                        queue.schedule(time.after(stream.below(1_000_000)), event);
                    }
                    black_box(queue.len())
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn draws(c: &mut Criterion) {
    let mut group = c.benchmark_group("draws");
    group.throughput(Throughput::Elements(1));
    let mut stream = Stream::new(1, 2, Purpose::Service);
    group.bench_function("next_u64", |b| b.iter(|| black_box(stream.next_u64())));
    let exponential = Dist::Exponential { mean_ns: 1e6 };
    group.bench_function("exponential", |b| {
        b.iter(|| black_box(exponential.sample(&mut stream)))
    });
    let lognormal = Dist::lognormal_from_median_p99(5e6, 40e6);
    group.bench_function("lognormal", |b| {
        b.iter(|| black_box(lognormal.sample(&mut stream)))
    });
    group.finish();
}

criterion_group!(benches, hold, draws);
criterion_main!(benches);
