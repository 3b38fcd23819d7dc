//! `doctor --connect`: a real PostgreSQL connection with the profile's `database_url`.

use std::time::Duration;

use super::{DoctorArgs, Report};
use crate::commands::Context;
use crate::project::Project;
use crate::shell::Shell;

/// Opens a real connection with the selected profile's `database_url`.
pub(super) fn connect(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    args: &DoctorArgs,
    report: &mut Report,
) {
    let profile = match ctx.select(shell, project) {
        Ok(p) => p,
        Err(e) => {
            report.fail("database", e.to_string(), "choose a profile with --profile");
            return;
        }
    };
    let name = profile.name.clone();
    let Ok(resolved) = ctx.load(shell, project, &profile) else {
        report.fail(
            "database",
            format!("profile `{name}` cannot be read"),
            format!("run `cargo systemprompt-secrets validate --profile {name}`"),
        );
        return;
    };
    let Some(def) = resolved.get("database_url") else {
        report.fail(
            "database",
            format!("profile `{name}` has no database_url"),
            "add \"database_url\": \"postgres://user:password@host:5432/dbname\" to secrets.json",
        );
        return;
    };
    let timeout = Duration::from_secs(args.remote.connection.connect_timeout.max(1));
    match crate::db_check::check(&def.value, timeout) {
        Ok(c) if !c.tls && !c.local => report.warn(
            "database",
            format!(
                "profile `{name}`: connected {} to {} ({}) with database_url from {}, over the network in the clear",
                c.transport, c.target, c.server, def.source
            ),
            "enable TLS on the server (then the app's client uses it by itself), or add `sslmode=require` to database_url so that a plain connection is refused",
        ),
        Ok(c) => report.pass(
            "database",
            format!(
                "profile `{name}`: connected {} to {} ({}) with database_url from {}",
                c.transport, c.target, c.server, def.source
            ),
        ),
        Err(e) => {
            let fix = if e.reason.contains("offers no TLS") {
                "enable TLS on the server, or drop `sslmode=require` from database_url for a trusted local network"
            } else if e.reason.contains("certificate") {
                "give the server a certificate the OS trusts (or point SSL_CERT_FILE at its CA), or use `sslmode=disable` on a trusted local network"
            } else {
                "check that the server runs and that host, port, database, user and password in database_url are right"
            };
            report.fail(
                "database",
                format!("profile `{name}`: cannot connect to {e}"),
                fix,
            );
        }
    }
}
