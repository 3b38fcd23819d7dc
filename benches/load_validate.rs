//! Criterion benchmarks: load and validate a profile of 10, 1,000 and 10,000 keys; load alone.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use systemprompt_secrets::cache_layer::NoCache;
use systemprompt_secrets::config::Config;
use systemprompt_secrets::env::ProcessEnv;
use systemprompt_secrets::layers::{load, LoadOptions};
use systemprompt_secrets::validate::validate;

fn secrets_json(keys: usize) -> String {
    let mut s = String::from("{\n  \"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\",\n  \"database_url\": \"postgres://app:pw@db:5432/app\",\n  \"openai\": \"sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789\"");
    for i in 3..keys {
        let _ = write!(
            s,
            ",\n  \"custom_key_{i}\": \"value-{i}-abcdefghijklmnopqrstuvwxyz\""
        );
    }
    s.push_str("\n}\n");
    s
}

/// The file, and the process environment with `use_env`; no keyring cache.
fn opts(use_env: bool) -> LoadOptions<'static> {
    LoadOptions {
        env: &ProcessEnv,
        use_env,
        read_file: true,
        env_files: vec![],
        cache: &NoCache,
        project_id: "bench",
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_validate");
    let config = Config::default();
    let settings = config.for_profile(
        "local",
        systemprompt_secrets::generation::Detected::fixed(
            systemprompt_secrets::generation::Generation::JwtSecret,
        ),
    );
    for keys in [10usize, 1_000, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, secrets_json(keys)).expect("write");
        group.bench_with_input(BenchmarkId::from_parameter(keys), &path, |b, path| {
            b.iter(|| {
                let resolved = load(path, &settings, "local", &opts(true)).expect("load");
                black_box(validate(&resolved, &settings))
            });
        });
    }
    group.finish();
    // The local side of `diff` and `sync`: the layers alone, without the environment.
    let mut group = c.benchmark_group("load");
    for keys in [10usize, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, secrets_json(keys)).expect("write");
        group.bench_with_input(BenchmarkId::from_parameter(keys), &path, |b, path| {
            b.iter(|| black_box(load(path, &settings, "local", &opts(false)).expect("load")));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
