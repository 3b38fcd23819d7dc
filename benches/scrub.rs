//! The scrubber of server text: knowing a value (building the search over its forms) and
//! cleaning a server's message with it, for a 1 MiB repetitive value and a 10 MiB token. Both
//! must be linear: the message is cut to a bound before the search, and a long value is searched
//! for by a bounded sample of chunks.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;
use systemprompt_secrets::scrub::Scrubber;

fn token(len: usize) -> String {
    (0..len)
        .map(|i| {
            let x = (i as u64).wrapping_mul(2_654_435_761) >> 7;
            char::from(b'a' + u8::try_from(x % 26).expect("< 26"))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scrub");
    group.sample_size(10);
    let cases = [
        ("repetitive 1 MiB value", "ab".repeat(512 * 1024)),
        ("1 MiB token", token(1024 * 1024)),
        ("10 MiB token", token(10 * 1024 * 1024)),
    ];
    for (name, value) in cases {
        let message = format!("error: rejected {} (bad input)", &value[1000..9000]);
        let secret = SecretString::from(value);
        group.bench_function(format!("know + clean, {name}"), |b| {
            b.iter(|| {
                let s = Scrubber::default();
                s.know(&secret);
                let cleaned = s.clean(&message);
                assert!(cleaned.len() < 400);
                cleaned
            });
        });
        let s = Scrubber::default();
        s.know(&secret);
        let _ = s.clean("warm");
        group.bench_function(format!("clean only, {name}"), |b| {
            b.iter(|| s.clean(&message));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
