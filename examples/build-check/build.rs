//! Fails the build when the active profile's secrets do not validate. Never embeds a value.
fn main() {
    systemprompt_secrets::build::check().run();
}
