//! `scan` in process: the values of a profile plus every key-format rule over text files.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use secrecy::SecretString;
use systemprompt_secrets::scan::{Needle, Scanner};

/// Source-like text: lines of code and prose, one planted value every ~4 KiB.
fn content(bytes: usize, planted: &str) -> Vec<u8> {
    let lines = [
        "fn main() { let config = Config::from_env().expect(\"config\"); }\n",
        "// Connect to the database described in README.md, then start the server.\n",
        "let url = format!(\"https://{host}:{port}/v1/tenants/{id}/secrets\");\n",
        "    assert_eq!(response.status(), 200, \"unexpected status: {response:?}\");\n",
    ];
    let mut out = Vec::with_capacity(bytes + 128);
    let mut i = 0;
    while out.len() < bytes {
        out.extend_from_slice(lines[i % lines.len()].as_bytes());
        if i % 60 == 59 {
            out.extend_from_slice(format!("token = \"{planted}\"\n").as_bytes());
        }
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let needles: Vec<Needle> = (0..100)
        .map(|i| Needle {
            value: SecretString::from(format!("value-{i:03}-Zq3vN8pR1tY6wB0eK4mJ7hL2")),
            key: format!("key_{i}"),
            origin: "profile local".to_owned(),
        })
        .collect();
    let scanner = Scanner::new(needles);
    let mut group = c.benchmark_group("scan");
    for size in [64 * 1024, 1024 * 1024, 8 * 1024 * 1024] {
        let text = content(size, "value-042-Zq3vN8pR1tY6wB0eK4mJ7hL2");
        assert!(
            !scanner.scan(&text).is_empty(),
            "the planted value is found"
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &text, |b, text| {
            b.iter(|| scanner.scan(text));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
