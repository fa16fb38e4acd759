//! The registry: the one list of the kinds of source reconstruct reads.
//! Each kind is a [`Slice`] its own crate exports; adding a kind is its
//! crate and one line here. Every command finds the sources' flags, tables,
//! bundle folders and blind spots through this list.
//!
//! The order is the order of the report's blind spots and of live sources
//! in the coverage table.

use std::sync::OnceLock;

use reconstruct_core::slice::Slice;

/// The kinds of source of the product.
pub fn product() -> Vec<&'static dyn Slice> {
    vec![
        &reconstruct_postgres::slice::Postgres,
        &reconstruct_prometheus::slice::Prometheus,
        &reconstruct_docker::slice::Docker,
        &reconstruct_logfile::slice::Logfile,
        &reconstruct_journal::slice::Journal,
        &reconstruct_stores::slice::Stores,
        &reconstruct_kubernetes::slice::Kubernetes,
        &reconstruct_otel::slice::Otel,
        &reconstruct_git::slice::Git,
        &crate::annotate::Annotations,
    ]
}

static INSTALLED: OnceLock<Vec<&'static dyn Slice>> = OnceLock::new();

/// Makes `slices` the registry of this process (a program built on
/// reconstruct with kinds of its own); false if one was in use already.
pub fn install(slices: Vec<&'static dyn Slice>) -> bool {
    INSTALLED.set(slices).is_ok()
}

/// The registry in use: the installed one, else the product's.
pub fn current() -> &'static [&'static dyn Slice] {
    INSTALLED.get_or_init(product)
}

/// The slices' flags on the command line: each slice adds its own, and
/// reads them back from these matches when it resolves.
#[derive(Clone, Debug, Default)]
pub struct KindFlags {
    pub matches: clap::ArgMatches,
}

impl clap::FromArgMatches for KindFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(KindFlags { matches: m.clone() })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.matches = m.clone();
        Ok(())
    }
}

impl clap::Args for KindFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        current().iter().fold(cmd, |c, s| s.flags(c))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}
