//! Reads its secrets at run time from the environment (e.g. `cargo systemprompt-secrets run -- …`).
fn main() {
    let configured = std::env::var_os("DATABASE_URL").is_some();
    println!("database configured: {configured}");
}
