//! Criterion benchmarks of the cloud client against the contract server on loopback:
//! `sync` of 10,000 keys (one GET and one PUT) and `unset` of 100 keys with 20 ms of server latency.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;
use support::cloud_server::CloudServer;
use systemprompt_secrets::generation::Generation;
use systemprompt_secrets::http::{parse_base_url, Http, HttpConfig};
use systemprompt_secrets::remote::systemprompt::CloudClient;
use systemprompt_secrets::secret_map::SecretMap;

const TOKEN: &str = "bench-token";
const TENANT: &str = "bench";

fn client(server: &CloudServer) -> CloudClient {
    let http = Http::new(HttpConfig::default()).expect("http");
    CloudClient::new(
        http,
        parse_base_url(&server.url).expect("url"),
        TENANT,
        SecretString::from(TOKEN),
        Generation::JwtSecret,
    )
}

fn bench(c: &mut Criterion) {
    let server = CloudServer::start(TOKEN, &[TENANT]);
    let cloud = client(&server);
    let secrets: SecretMap = (0..10_000)
        .map(|i| {
            (
                format!("KEY_{i:05}"),
                SecretString::from(format!("value-{i}-abcdefghijklmnopqrstuvwxyz")),
            )
        })
        .collect();

    // The request count is part of the contract: one GET for the plan, one PUT for every key.
    server.clear_requests();
    cloud.list().expect("list");
    cloud.upsert(&secrets).expect("upsert");
    assert_eq!(
        (server.count("GET"), server.count("PUT")),
        (1, 1),
        "sync of 10,000 keys is 1 GET + 1 PUT"
    );

    let mut group = c.benchmark_group("cloud");
    group.sample_size(20);
    group.bench_function("sync_10000_keys", |b| {
        b.iter(|| {
            cloud.list().expect("list");
            cloud.upsert(&secrets).expect("upsert");
        });
    });

    server.set_latency(Duration::from_millis(20));
    let names: Vec<String> = (0..100).map(|i| format!("DEL_{i:03}")).collect();
    group.sample_size(10);
    group.bench_function("unset_100_keys_20ms_latency", |b| {
        b.iter_batched(
            || {
                let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
                server.set_remote(TENANT, &pairs);
            },
            |()| {
                let results = cloud.delete_many(&names, &|_| {});
                assert!(results.iter().all(|r| matches!(r, Some(Ok(_)))));
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
